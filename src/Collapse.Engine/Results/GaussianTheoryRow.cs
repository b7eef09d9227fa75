using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>collapse theory gaussian</c>: the exact expectations (no simulation) of one
/// (setting, d, n) cell at one iteration. The log-det expectation exists in closed form for Replace
/// (−inf where n ≤ d, every fit singular); it is empty for the other settings.
/// </summary>
public sealed record GaussianTheoryRow(Setting Setting, int Dim, int N, int Iteration, double TraceRatio, double SquaredErrorMean, double? LogDetRatio)
{
    public const string Header = "setting,dim,n,iteration,trace_ratio_expected,squared_error_mean_expected,log_det_ratio_expected";

    public string ToCsv() => string.Join(',', Setting.Name(), Dim.ToString(CultureInfo.InvariantCulture), N.ToString(CultureInfo.InvariantCulture),
        Iteration.ToString(CultureInfo.InvariantCulture), CsvNumber.Format(TraceRatio), CsvNumber.Format(SquaredErrorMean),
        LogDetRatio is { } logDet ? CsvNumber.Format(logDet) : "");

    /// <summary>Every (setting, d, n) cell of a grid at iterations 1..T, in the sweep's cell order.</summary>
    public static IEnumerable<GaussianTheoryRow> For(GaussianSweepConfig grid)
    {
        foreach (var cell in grid.Cells())
        {
            var expected = GaussianTheory.Expectations(cell.Setting, cell.Dim, cell.N, grid.Iterations);
            for (var t = 1; t <= grid.Iterations; t++)
                yield return new GaussianTheoryRow(cell.Setting, cell.Dim, cell.N, t, expected[t - 1].TraceRatio, expected[t - 1].SquaredErrorMean,
                    cell.Setting == Setting.Replace ? GaussianTheory.ExpectedLogDetRatio(cell.Dim, cell.N, t) : null);
        }
    }
}
