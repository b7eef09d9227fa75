namespace Collapse.Engine.Results;

/// <summary>
/// One row of <c>lm.csv</c>: one (preset, setting) cell × seed × iteration. Iteration 1 is the fit
/// on the real training data. See <see cref="Families.Lm.LmFamily"/> for what each metric measures.
/// </summary>
public sealed record LmRow(string Preset, Setting Setting, int Seed, int Iteration, int TrainExamples, int Steps,
    double TestLoss, double TrainLoss, double UniqueFraction, double MeanLength)
{
    public const string Header = "preset,setting,seed,iteration,train_examples,steps,test_loss,train_loss,unique_fraction,mean_length";

    /// <summary>The first column holding a NaN or infinity, or null.</summary>
    public (string Column, double Value)? NonFinite() =>
        !double.IsFinite(TestLoss) ? ("test_loss", TestLoss)
        : !double.IsFinite(TrainLoss) ? ("train_loss", TrainLoss)
        : !double.IsFinite(UniqueFraction) ? ("unique_fraction", UniqueFraction)
        : !double.IsFinite(MeanLength) ? ("mean_length", MeanLength)
        : null;

    public string ToCsv() => string.Join(',', Preset, Setting.Name(), Int(Seed), Int(Iteration), Int(TrainExamples), Int(Steps),
        CsvNumber.Format(TestLoss), CsvNumber.Format(TrainLoss), CsvNumber.Format(UniqueFraction), CsvNumber.Format(MeanLength));

    static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static LmRow Parse(string line, int lineNumber)
    {
        var f = line.Split(',');
        if (f.Length != 10) throw new FormatException($"line {lineNumber}: expected 10 columns ({Header}), found {f.Length}");
        try
        {
            static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
            return new LmRow(f[0], Settings.Parse(f[1]), I(f[2]), I(f[3]), I(f[4]), I(f[5]),
                CsvNumber.Parse(f[6]), CsvNumber.Parse(f[7]), CsvNumber.Parse(f[8]), CsvNumber.Parse(f[9]));
        }
        catch (FormatException e)
        {
            throw new FormatException($"line {lineNumber}: {e.Message}");
        }
    }

    /// <summary>Reads a whole <c>lm.csv</c>; the header must match exactly.</summary>
    public static List<LmRow> ReadAll(string path) => TidyCsv.ReadAll(path, Header, Parse);
}
