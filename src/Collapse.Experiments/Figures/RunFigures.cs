using Collapse.Engine.Families;
using Collapse.Engine.Scenarios;

namespace Collapse.Experiments.Figures;

/// <summary>A run's figures from its CSV, whichever experiment wrote it (told by the header): what every run and <c>collapse plot</c> draw.</summary>
public static class RunFigures
{
    /// <summary>The regression sweep's CSV, known by name too so a damaged header gets regression.csv's error, not gaussian.csv's.</summary>
    private const string RegressionCsv = "regression.csv";

    /// <summary>
    /// Draws the figures of a <c>gaussian.csv</c>, <c>kde.csv</c>, <c>lm.csv</c>, <c>mix.csv</c> or
    /// <c>regression.csv</c> into <paramref name="figuresDirectory"/>; a kde.csv's sample pictures need the
    /// <c>kde-samples.csv</c> a run writes beside it (a merge has none), a mix.csv also gets <c>summary.md</c>
    /// beside it (Summary; null otherwise). Throws <see cref="FormatException"/> for a file that is none of them
    /// (or a regression.csv with no rows).
    /// </summary>
    /// <remarks>A regression.csv's figures carry the exact expectations (<see cref="RegressionTheory.ExpectedTestMse"/>), as the Gaussian ones carry theirs.</remarks>
    public static (IReadOnlyList<string> Figures, string? Summary) Draw(string csvPath, string figuresDirectory)
    {
        var header = File.ReadLines(csvPath).FirstOrDefault();
        if (header == KdeRow.Header)
        {
            var samples = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(csvPath))!, KdeSweep.SamplesFile);
            return (KdeFigures.DrawAll(KdeRow.ReadAll(csvPath), File.Exists(samples) ? KdeFigures.ReadSamples(samples) : [], figuresDirectory), null);
        }
        if (header == LmRow.Header) return (LmFigures.DrawAll(LmRow.ReadAll(csvPath), figuresDirectory), null);
        // A mix.csv by its header, or by its name (so a damaged header gets mix.csv's error, not gaussian.csv's).
        if (header is not null && header.StartsWith("family,", StringComparison.Ordinal) || Path.GetFileName(csvPath) == MixRow.FileName)
            return MixFigures.Redraw(csvPath, figuresDirectory);
        if (header == RegressionRow.Header || Path.GetFileName(csvPath) == RegressionCsv)
        {
            var rows = RegressionRow.ReadAll(csvPath);
            // A header alone is a malformed file here (RegressionFigures.DrawAll refuses no rows), so `collapse plot` says so in one line.
            if (rows.Count == 0) throw new FormatException($"{csvPath}: no rows under the header, nothing to draw");
            return (RegressionFigures.DrawAll(rows, figuresDirectory, RegressionTheory.ExpectedTestMse), null);
        }
        return (GaussianFigures.DrawAll(GaussianRow.ReadAll(csvPath), figuresDirectory), null);
    }
}
