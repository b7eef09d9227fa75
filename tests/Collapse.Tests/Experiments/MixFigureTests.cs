using Collapse.Experiments.Figures;
using Collapse.Tests.Cli;
using Collapse.Tests.Reports;
using SkiaSharp;

namespace Collapse.Tests.Experiments;

public class MixFigureTests
{
    /// <summary>
    /// A decodable PNG with more than a blank page in it; a heatmap's cells cover most of it (a grid one cell
    /// wide once came out as an empty frame with only its labels).
    /// </summary>
    static void AssertPng(string path)
    {
        var heatmap = Path.GetFileName(path).StartsWith("mix-heatmap", StringComparison.Ordinal);
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= 400 && bitmap.Height >= 300, $"{path}: {bitmap.Width}×{bitmap.Height}");
        var colours = new HashSet<uint>();
        var (painted, sampled) = (0, 0);
        for (var y = 0; y < bitmap.Height; y += 3)
            for (var x = 0; x < bitmap.Width; x += 3)
            {
                var c = bitmap.GetPixel(x, y);
                colours.Add((uint)c);
                sampled++;
                if (Math.Min(c.Red, Math.Min(c.Green, c.Blue)) < 230) painted++;
            }
        Assert.True(colours.Count > 20, $"{path}: only {colours.Count} colours");
        if (heatmap) Assert.True(painted > 0.4 * sampled, $"{path}: only {100.0 * painted / sampled:F0}% of it painted");
    }

    static List<MixRow> Grid(int[] reals, int[] synthetic, int seeds, string family = "gaussian", double baseline = 7, IReadOnlyList<string>? extra = null) =>
        MixGrid.Build(family, reals, synthetic, seeds, real => baseline + 10.0 / real, (real, s) => real < 1000 ? -5.0 / real * s / (s + 100.0) : 0.01 * s / 1000,
            extra: extra ?? ["5"]);

    [Fact]
    public void A_grid_gives_the_heatmap_and_the_proportion_figure()
    {
        var directory = CliRunner.TemporaryDirectory();
        var rows = Grid([10, 32, 100, 316, 1000, 3162], [0, 32, 100, 316, 1000, 3162, 10000, 31623], seeds: 5);
        var paths = MixFigures.DrawAll(MixRow.Header(["dim"]), rows, directory);
        Assert.Equal([Path.Combine(directory, "mix-heatmap.png"), Path.Combine(directory, "mix-proportion.png")], paths);
        foreach (var p in paths) AssertPng(p);
    }

    [Fact]
    public void One_num_real_and_one_seed_still_draw()
    {
        var directory = CliRunner.TemporaryDirectory();
        var paths = MixFigures.DrawAll(MixRow.Header(["dim"]), Grid([100], [0, 1000], seeds: 1), directory);
        Assert.Equal(2, paths.Count);
        foreach (var p in paths) AssertPng(p);
    }

    [Fact]
    public void Negative_metrics_missing_cells_non_finite_values_and_a_single_grid_point_draw()
    {
        // A KDE's NLL can be negative (a linear axis then); a missing grid point is a grey cell; a NaN seed is left out.
        var rows = Grid([10, 100, 1000], [0, 50, 500], seeds: 3, family: "kde", baseline: -1.5, extra: ["moons", "0.1"]);
        rows.RemoveAll(r => r.NumReal == 100 && r.NumSynthetic == 500);
        rows[0] = rows[0] with { TestMetric = double.NaN };
        var directory = CliRunner.TemporaryDirectory();
        foreach (var p in MixFigures.DrawAll(MixRow.Header(["dataset", "bandwidth"]), rows, directory)) AssertPng(p);

        var point = CliRunner.TemporaryDirectory();
        foreach (var p in MixFigures.DrawAll(MixRow.CommonHeader, Grid([10], [0], seeds: 2, extra: []), point)) AssertPng(p);
    }

    [Fact]
    public void No_rows_draw_nothing_and_two_families_get_a_pair_each()
    {
        var empty = CliRunner.TemporaryDirectory();
        Assert.Empty(MixFigures.DrawAll(MixRow.CommonHeader, [], empty));
        Assert.False(Directory.Exists(empty));

        var rows = Grid([10, 100], [0, 32], seeds: 2, extra: []).Concat(Grid([10, 100], [0, 32], seeds: 2, family: "lm", baseline: 2, extra: [])).ToList();
        var directory = CliRunner.TemporaryDirectory();
        var paths = MixFigures.DrawAll(MixRow.CommonHeader, rows, directory);
        Assert.Equal(["mix-heatmap-gaussian.png", "mix-proportion-gaussian.png", "mix-heatmap-lm.png", "mix-proportion-lm.png"], paths.Select(Path.GetFileName));
        foreach (var p in paths) AssertPng(p);
    }
}
