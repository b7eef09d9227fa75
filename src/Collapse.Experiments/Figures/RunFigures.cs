namespace Collapse.Experiments.Figures;

/// <summary>A run's figures from its CSV, whichever experiment wrote it (told by the header): what every run and <c>collapse plot</c> draw.</summary>
public static class RunFigures
{
    /// <summary>
    /// Draws the figures of a <c>gaussian.csv</c>, <c>kde.csv</c>, <c>lm.csv</c> or <c>mix.csv</c> into
    /// <paramref name="figuresDirectory"/>; a kde.csv's sample pictures need the <c>kde-samples.csv</c> a run
    /// writes beside it (a merge has none), a mix.csv also gets <c>summary.md</c> beside it (Summary; null
    /// otherwise). Throws <see cref="FormatException"/> for a file that is none of them.
    /// </summary>
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
        return (GaussianFigures.DrawAll(GaussianRow.ReadAll(csvPath), figuresDirectory), null);
    }
}
