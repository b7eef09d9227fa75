namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>mix.csv</c> (the value-of-synthetic-data study, docs/DESIGN.md, section D): one
/// (num_real, num_synthetic) grid point × seed. A fresh model fitted on num_real real records plus
/// num_synthetic records sampled by a generator that was fitted once per seed on more real data,
/// scored on real test data with the family's metric (lower is better for every family).
/// The six common columns come first; each family appends its own (<see cref="Extra"/>, already
/// formatted, named by the file's header).
/// </summary>
public sealed record MixRow(string Family, int NumReal, int NumSynthetic, int Seed, double TestMetric, IReadOnlyList<string> Extra)
{
    public const string CommonHeader = "family,num_real,num_synthetic,proportion_real,seed,test_metric";
    public const string FileName = "mix.csv";

    /// <summary>num_real / (num_real + num_synthetic): 1 when no synthetic data is added.</summary>
    public double ProportionReal => (double)NumReal / ((long)NumReal + NumSynthetic);

    /// <summary>The file's full header for a family's extra columns.</summary>
    public static string Header(IReadOnlyList<string> extraColumns) =>
        extraColumns.Count == 0 ? CommonHeader : CommonHeader + "," + string.Join(',', extraColumns);

    public string ToCsv() => string.Join(',', new[]
    {
        Family, NumReal.ToString(CultureInfo.InvariantCulture), NumSynthetic.ToString(CultureInfo.InvariantCulture),
        CsvNumber.Format(ProportionReal), Seed.ToString(CultureInfo.InvariantCulture), CsvNumber.Format(TestMetric),
    }.Concat(Extra));

    /// <summary>A line of a file whose header is <paramref name="header"/> (the common columns, then the family's).</summary>
    public static MixRow Parse(string line, int lineNumber, string header)
    {
        var columns = header.Split(',').Length;
        var f = line.Split(',');
        if (f.Length != columns) throw new FormatException($"line {lineNumber}: expected {columns} columns ({header}), found {f.Length}");
        try
        {
            return new MixRow(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), CsvNumber.Parse(f[5]), f[6..]);
        }
        catch (FormatException e)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>mix.csv</c>: its header must begin with the common columns.</summary>
    public static (string Header, List<MixRow> Rows) ReadAll(string path)
    {
        string header;
        using (var reader = new StreamReader(path))
            header = reader.ReadLine() ?? "";
        if (header != CommonHeader && !header.StartsWith(CommonHeader + ",", StringComparison.Ordinal))
            throw new FormatException($"{path}: header is '{header}', expected one beginning '{CommonHeader}'");
        return (header, TidyCsv.ReadAll(path, header, (line, n) => Parse(line, n, header)));
    }

    /// <summary>What the test metric is, per family, for figure axes and summaries.</summary>
    public static string MetricLabel(string family) => family switch
    {
        "gaussian" => "test NLL (nats per point)",
        "kde" => "test NLL (nats per point)",
        "lm" => "test loss (nats per character)",
        "regression" => "test MSE (against noiseless labels)",
        _ => "test metric",
    };
}
