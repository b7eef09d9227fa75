using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>lm.csv</c>: one (regime, preset, setting) cell × seed × iteration. Iteration 1 is the
/// fit on the real training data. See <see cref="Families.Lm.LmFamily"/> for what each metric measures.
/// </summary>
public sealed record LmRow(LmRegime Regime, string Preset, Setting Setting, int Seed, int Iteration, int TrainExamples, int Steps,
    double TestLoss, double TrainLoss, double UniqueFraction, double MeanLength)
{
    public const string Header = "regime,preset,setting,seed,iteration,train_examples,steps,test_loss,train_loss,unique_fraction,mean_length";

    /// <summary>The header before the regime column existed: such files are every fit from scratch.</summary>
    public const string HeaderWithoutRegime = "preset,setting,seed,iteration,train_examples,steps,test_loss,train_loss,unique_fraction,mean_length";

    /// <summary>Which line of a figure or claim the row belongs to: the preset, and the regime where it is not from scratch.</summary>
    public string Curve => Regime == LmRegime.Scratch ? Preset : $"{Preset}, {Regime.Name()}";

    /// <summary>The first column holding a NaN or infinity, or null.</summary>
    public (string Column, double Value)? NonFinite() =>
        !double.IsFinite(TestLoss) ? ("test_loss", TestLoss)
        : !double.IsFinite(TrainLoss) ? ("train_loss", TrainLoss)
        : !double.IsFinite(UniqueFraction) ? ("unique_fraction", UniqueFraction)
        : !double.IsFinite(MeanLength) ? ("mean_length", MeanLength)
        : null;

    public string ToCsv() => string.Join(',', Regime.Name(), Preset, Setting.Name(), Int(Seed), Int(Iteration), Int(TrainExamples), Int(Steps),
        CsvNumber.Format(TestLoss), CsvNumber.Format(TrainLoss), CsvNumber.Format(UniqueFraction), CsvNumber.Format(MeanLength));

    static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static LmRow Parse(string line, int lineNumber) => Parse(line, lineNumber, withRegime: true);

    static LmRow Parse(string line, int lineNumber, bool withRegime)
    {
        var f = line.Split(',');
        var columns = withRegime ? 11 : 10;
        if (f.Length != columns) throw new FormatException($"line {lineNumber}: expected {columns} columns ({(withRegime ? Header : HeaderWithoutRegime)}), found {f.Length}");
        try
        {
            static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
            var regime = withRegime ? LmRegimes.Parse(f[0]) : LmRegime.Scratch;
            var o = withRegime ? 1 : 0;
            return new LmRow(regime, f[o], Settings.Parse(f[o + 1]), I(f[o + 2]), I(f[o + 3]), I(f[o + 4]), I(f[o + 5]),
                CsvNumber.Parse(f[o + 6]), CsvNumber.Parse(f[o + 7]), CsvNumber.Parse(f[o + 8]), CsvNumber.Parse(f[o + 9]));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>lm.csv</c>; the header must match exactly (a file from before the regime column reads as every fit from scratch).</summary>
    public static List<LmRow> ReadAll(string path)
    {
        var first = File.ReadLines(path).FirstOrDefault();
        return first == HeaderWithoutRegime
            ? TidyCsv.ReadAll(path, HeaderWithoutRegime, (line, number) => Parse(line, number, withRegime: false))
            : TidyCsv.ReadAll(path, Header, Parse);
    }
}
