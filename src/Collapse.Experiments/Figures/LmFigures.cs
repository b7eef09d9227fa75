using Collapse.Engine.Scenarios;

namespace Collapse.Experiments.Figures;

/// <summary>
/// The paper's language-model figure, drawn from <c>lm.csv</c>: one panel per setting, x = model-fitting
/// iteration, y = cross-entropy (nats per character) on the real held-out test documents, one line per
/// preset and regime (mean over seeds) with a 95% band over seeds. One y range for every panel, so settings compare.
/// </summary>
public static class LmFigures
{
    const int PanelWidth = 380, PanelHeight = 300, TitleHeight = 46, HeadingHeight = 30, LegendWidth = 230;
    public const string TestLossFile = "lm-test-loss.png";

    /// <summary>Writes <c>lm-test-loss.png</c>; returns its path (none when there are no rows).</summary>
    public static IReadOnlyList<string> DrawAll(IReadOnlyList<LmRow> rows, string figuresDirectory)
    {
        if (rows.Count == 0) return [];
        Directory.CreateDirectory(figuresDirectory);
        var path = Path.Combine(figuresDirectory, TestLossFile);
        DrawTestLoss(rows, path);
        return [path];
    }

    sealed record Curve(string Preset, double[] X, double[] Mean, double[] Lo, double[] Hi);

    static void DrawTestLoss(IReadOnlyList<LmRow> rows, string path)
    {
        var settings = rows.Select(r => r.Setting).Distinct().Order().ToList();
        // Curves (a preset, and its regime unless from scratch) in the order the CSV first names them.
        var presets = rows.Select(r => r.Curve).Distinct().ToList();
        var colours = FigureKit.Palette(presets);
        var xMax = Math.Max(2, rows.Max(r => r.Iteration));
        var width = LegendWidth + settings.Count * PanelWidth;
        var height = TitleHeight + HeadingHeight + PanelHeight;
        var examples = rows.Where(r => r.Iteration == 1).Select(r => r.TrainExamples).Distinct().ToList();
        using var surface = FigureKit.Page(width, height, "Language model: test cross-entropy on real names" +
            (examples.Count == 1 ? $" (n = {examples[0]:N0})" : ""), settings.Count * PanelWidth / 2f);
        var canvas = surface.Canvas;
        var panels = settings.Select(s => Curves(rows.Where(r => r.Setting == s), presets)).ToList();
        var ys = panels.SelectMany(p => p.SelectMany(c => c.Lo.Concat(c.Hi))).Where(double.IsFinite).ToList();
        var (yMin, yMax) = ys.Count > 0 ? (ys.Min(), ys.Max()) : (0.0, 1.0);
        if (yMax - yMin < 1e-9) (yMin, yMax) = (yMin - 0.05, yMax + 0.05);
        var pad = 0.06 * (yMax - yMin);
        for (var j = 0; j < settings.Count; j++)
        {
            FigureKit.DrawLabel(canvas, settings[j].Name(), (j + 0.5f) * PanelWidth + 36, TitleHeight + 20, 16);
            using var plot = new Plot();
            foreach (var c in panels[j])
            {
                var band = plot.Add.FillY(c.X, c.Lo, c.Hi);
                band.FillColor = colours[c.Preset].WithAlpha(0.2);
                band.LineWidth = 0;
            }
            foreach (var c in panels[j])
            {
                var line = plot.Add.ScatterLine(c.X, c.Mean, colours[c.Preset]);
                line.LineWidth = 2;
                line.MarkerSize = 6;
            }
            if (j == 0) plot.YLabel("test cross-entropy (nats/char)", 13);
            plot.XLabel("model-fitting iteration", 13);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.SetLimits(0.5, xMax + 0.5, yMin - pad, yMax + pad);
            plot.Font.Set(FigureKit.Font);
            plot.Layout.Fixed(new PixelPadding(72, 10, 44, 12));
            FigureKit.Blit(canvas, plot, j * PanelWidth, TitleHeight + HeadingHeight, PanelWidth, PanelHeight);
        }
        using (var legend = FigureKit.CurveLegend(presets.Select(p => ($"preset {p}", colours[p])), rows.Select(r => r.Seed).Distinct().Count()))
            FigureKit.Blit(canvas, legend, settings.Count * PanelWidth + 10, TitleHeight + HeadingHeight, LegendWidth - 10, Math.Min(220, PanelHeight));
        FigureKit.Save(surface, path);
    }

    /// <summary>Mean and 2.5–97.5th percentile over seeds per iteration, one curve per preset.</summary>
    static List<Curve> Curves(IEnumerable<LmRow> rows, List<string> presets)
    {
        var curves = new List<Curve>();
        var byPreset = rows.GroupBy(r => r.Curve).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var preset in presets.Where(byPreset.ContainsKey))
        {
            var (x, mean, lo, hi) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            foreach (var it in byPreset[preset].GroupBy(r => r.Iteration).OrderBy(g => g.Key))
            {
                var v = it.Select(r => r.TestLoss).Where(double.IsFinite).Order().ToArray();
                if (v.Length == 0) continue;
                x.Add(it.Key);
                mean.Add(v.Average());
                lo.Add(FigureKit.Percentile(v, 2.5));
                hi.Add(FigureKit.Percentile(v, 97.5));
            }
            if (x.Count > 0) curves.Add(new Curve(preset, [.. x], [.. mean], [.. lo], [.. hi]));
        }
        return curves;
    }
}
