using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>regression.csv</c>: one (setting, d, n, σ²) cell × seed × iteration. Iteration 1
/// is the least-squares fit to the real labels.
/// </summary>
public sealed record RegressionRow(Setting Setting, int Dim, int N, double NoiseVariance, int Seed, int Iteration, double TestMse, double WeightError)
{
    public const string Header = "setting,dim,n,sigma_squared,seed,iteration,test_mse,weight_error";

    /// <summary>The row of one replicate's metrics, read by name.</summary>
    public static RegressionRow Of(RegressionCell cell, int seed, int iteration, MetricTable metrics, int replicate) =>
        new(cell.Setting, cell.Dim, cell.N, cell.NoiseVariance, seed, iteration,
            metrics[replicate, RegressionMetrics.TestMse], metrics[replicate, RegressionMetrics.WeightError]);

    /// <summary>The first column holding a value that is not finite, or null (every fit has a finite error).</summary>
    public (string Column, double Value)? NonFinite() =>
        !double.IsFinite(TestMse) ? ("test_mse", TestMse)
        : !double.IsFinite(WeightError) ? ("weight_error", WeightError)
        : null;

    public string ToCsv() => string.Join(',',
        Setting.Name(), Dim.ToString(CultureInfo.InvariantCulture), N.ToString(CultureInfo.InvariantCulture), CsvNumber.Format(NoiseVariance),
        Seed.ToString(CultureInfo.InvariantCulture), Iteration.ToString(CultureInfo.InvariantCulture),
        CsvNumber.Format(TestMse), CsvNumber.Format(WeightError));

    public static RegressionRow Parse(string line, int lineNumber)
    {
        var f = line.Split(',');
        if (f.Length != 8) throw new FormatException($"line {lineNumber}: expected 8 columns ({Header}), found {f.Length}");
        try
        {
            return new RegressionRow(Settings.Parse(f[0]), int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
                CsvNumber.Parse(f[3]), int.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture),
                CsvNumber.Parse(f[6]), CsvNumber.Parse(f[7]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>regression.csv</c>; the header must match exactly.</summary>
    public static List<RegressionRow> ReadAll(string path) => TidyCsv.ReadAll(path, Header, Parse);
}
