namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>kde.csv</c>: one (dataset, bandwidth, setting, n) cell × seed × iteration.
/// Iteration 1 is the fit on real data; nll_test is the mean negative log-likelihood (nats) of the
/// seed's held-out real test points under the fitted KDE.
/// </summary>
public sealed record KdeRow(ToyDataset Dataset, Bandwidth Bandwidth, Setting Setting, int N, int Seed, int Iteration, double NllTest)
{
    public const string Header = "dataset,bandwidth,setting,n,seed,iteration,nll_test";

    /// <summary>The column holding a NaN or infinity, or null.</summary>
    public (string Column, double Value)? NonFinite() => double.IsFinite(NllTest) ? null : ("nll_test", NllTest);

    public string ToCsv() => string.Join(',', Dataset.Name(), Bandwidth.ToString(), Setting.Name(),
        N.ToString(CultureInfo.InvariantCulture), Seed.ToString(CultureInfo.InvariantCulture),
        Iteration.ToString(CultureInfo.InvariantCulture), CsvNumber.Format(NllTest));

    public static KdeRow Parse(string line, int lineNumber)
    {
        var f = line.Split(',');
        if (f.Length != 7) throw new FormatException($"line {lineNumber}: expected 7 columns ({Header}), found {f.Length}");
        try
        {
            if (!Bandwidth.TryParse(f[1], out var h)) throw new FormatException($"bandwidth '{f[1]}' is not a positive number, scott or silverman");
            return new KdeRow(ToyDatasets.Parse(f[0]), h, Settings.Parse(f[2]), int.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture), CsvNumber.Parse(f[6]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>kde.csv</c>; the header must match exactly.</summary>
    public static List<KdeRow> ReadAll(string path) => TidyCsv.ReadAll(path, Header, Parse);
}
