namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>gaussian.csv</c>: one (setting, d, n) cell × seed × iteration.
/// Iteration 1 is the fit on real data. Σ₀ = I, so the ratios are det Σ_t, tr Σ_t / d.
/// </summary>
public sealed record GaussianRow(
    Setting Setting, int Dim, int N, int Seed, int Iteration,
    double SquaredErrorMean, double DetRatio, double LogDetRatio, double TraceRatio)
{
    public const string Header = "setting,dim,n,seed,iteration,squared_error_mean,det_ratio,log_det_ratio,trace_ratio";

    /// <summary>The row of one replicate's metrics, read by name.</summary>
    public static GaussianRow Of(Setting setting, int dim, int n, int seed, int iteration, MetricTable metrics, int replicate) =>
        new(setting, dim, n, seed, iteration, metrics[replicate, GaussianMetrics.SquaredErrorMean], metrics[replicate, GaussianMetrics.DetRatio],
            metrics[replicate, GaussianMetrics.LogDetRatio], metrics[replicate, GaussianMetrics.TraceRatio]);

    /// <summary>
    /// The first column holding a value the model does not define, or null. A singular fit
    /// legitimately has det 0 and log det −∞; nothing may be NaN, and nothing else infinite.
    /// </summary>
    public (string Column, double Value)? NonFinite() =>
        !double.IsFinite(SquaredErrorMean) ? ("squared_error_mean", SquaredErrorMean)
        : !double.IsFinite(DetRatio) ? ("det_ratio", DetRatio)
        : double.IsNaN(LogDetRatio) || double.IsPositiveInfinity(LogDetRatio) ? ("log_det_ratio", LogDetRatio)
        : !double.IsFinite(TraceRatio) ? ("trace_ratio", TraceRatio)
        : null;

    public string ToCsv() => string.Join(',',
        Setting.Name(), Dim.ToString(CultureInfo.InvariantCulture), N.ToString(CultureInfo.InvariantCulture),
        Seed.ToString(CultureInfo.InvariantCulture), Iteration.ToString(CultureInfo.InvariantCulture),
        CsvNumber.Format(SquaredErrorMean), CsvNumber.Format(DetRatio), CsvNumber.Format(LogDetRatio), CsvNumber.Format(TraceRatio));

    public static GaussianRow Parse(string line, int lineNumber)
    {
        var f = line.Split(',');
        if (f.Length != 9) throw new FormatException($"line {lineNumber}: expected 9 columns ({Header}), found {f.Length}");
        try
        {
            return new GaussianRow(Settings.Parse(f[0]), int.Parse(f[1], CultureInfo.InvariantCulture),
                int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), CsvNumber.Parse(f[5]), CsvNumber.Parse(f[6]),
                CsvNumber.Parse(f[7]), CsvNumber.Parse(f[8]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>gaussian.csv</c>; the header must match exactly.</summary>
    public static List<GaussianRow> ReadAll(string path) => TidyCsv.ReadAll(path, Header, Parse);
}

/// <summary>Round-trip invariant formatting, with infinities spelled <c>inf</c>/<c>-inf</c> as numpy and pandas read them.</summary>
public static class CsvNumber
{
    public static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : double.IsNaN(value) ? "nan"
        : value.ToString("R", CultureInfo.InvariantCulture);

    public static double Parse(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
