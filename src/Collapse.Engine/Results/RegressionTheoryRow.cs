using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>collapse theory regression</c>: the exact E[test MSE] (no simulation) of one
/// (setting, d, n, σ²) cell at one iteration; <c>inf</c> where the expectation diverges
/// (n ∈ {d − 1, d, d + 1} with σ² &gt; 0), empty where no closed form is known (Accumulate-Subsample
/// after its first fit, except some noiseless iterations: <see cref="RegressionTheory.IsKnown"/>).
/// </summary>
public sealed record RegressionTheoryRow(Setting Setting, int Dim, int N, double NoiseVariance, int Iteration, double? TestMse)
{
    public const string Header = "setting,dim,n,sigma_squared,iteration,test_mse_expected";

    public string ToCsv() => string.Join(',', Setting.Name(), Dim.ToString(CultureInfo.InvariantCulture), N.ToString(CultureInfo.InvariantCulture),
        CsvNumber.Format(NoiseVariance), Iteration.ToString(CultureInfo.InvariantCulture), TestMse is { } mse ? CsvNumber.Format(mse) : "");

    /// <summary>Every (setting, d, n, σ²) cell of a grid at iterations 1..T, in the sweep's cell order.</summary>
    public static IEnumerable<RegressionTheoryRow> For(RegressionSweepConfig grid)
    {
        foreach (var cell in grid.Cells())
        {
            var expected = RegressionTheory.ExpectedTestMse(cell.Setting, cell.Dim, cell.N, cell.NoiseVariance, grid.Iterations);
            for (var t = 1; t <= grid.Iterations; t++)
                yield return new RegressionTheoryRow(cell.Setting, cell.Dim, cell.N, cell.NoiseVariance, t,
                    RegressionTheory.IsKnown(cell.Setting, cell.Dim, cell.N, cell.NoiseVariance, t) ? expected[t - 1] : null);
        }
    }
}
