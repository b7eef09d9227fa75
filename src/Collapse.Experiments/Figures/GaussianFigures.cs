using System.Text;
using Collapse.Engine.Families;
using Collapse.Engine.Scenarios;

namespace Collapse.Experiments.Figures;

/// <summary>
/// The paper's Gaussian figures, drawn from <c>gaussian.csv</c> rows: for each metric and each d one PNG
/// with a panel per setting (shared y range), one line per n = mean over seeds with a 95% band over
/// seeds, and the exact Replace expectation dashed on the replace panel.
/// </summary>
public static class GaussianFigures
{
    private enum Metric { SquaredErrorMean, DetRatio, TraceRatio }

    private static readonly Metric[] Metrics = [Metric.SquaredErrorMean, Metric.DetRatio, Metric.TraceRatio];

    private const int Width = 1500, Height = 500, TitleHeight = 46, LegendWidth = 270;
    private const float TickPad = 70, YLabelPad = 30, PanelGap = 14;

    /// <summary>Writes <c>gaussian-&lt;metric&gt;-d&lt;d&gt;.png</c> for every metric and every d in the rows; returns the paths.</summary>
    public static IReadOnlyList<string> DrawAll(IReadOnlyList<GaussianRow> rows, string figuresDirectory)
    {
        Directory.CreateDirectory(figuresDirectory);
        // One colour per n across every figure, so a reader can match n between figures.
        var colours = FigureKit.Palette(rows.Select(r => r.N).Distinct().Order());
        var paths = new List<string>();
        foreach (var metric in Metrics)
            foreach (var byDim in rows.GroupBy(r => r.Dim).OrderBy(g => g.Key))
            {
                var path = Path.Combine(figuresDirectory, $"gaussian-{Slug(metric)}-d{byDim.Key}.png");
                Draw(metric, byDim.Key, byDim.ToList(), colours, path);
                paths.Add(path);
            }
        return paths;
    }

    /// <summary>One n's curve in plot units; <see cref="CutAt"/> is the iteration where a seed's value reached 0 on a log axis.</summary>
    private sealed record Curve(int N, double[] X, double[] Mean, double[] Lo, double[] Hi, int? CutAt = null);

    private sealed record Panel(Setting Setting, List<Curve> Curves, List<Curve> Theory, List<int> Omitted);

    private static void Draw(Metric metric, int d, List<GaussianRow> rows, Dictionary<int, Color> colours, string path)
    {
        var settings = rows.Select(r => r.Setting).Distinct().Order().ToList();
        var log = metric != Metric.TraceRatio || SpansMoreThan10(rows);
        var panels = settings.Select(s => BuildPanel(metric, d, s, rows.Where(r => r.Setting == s).ToList(), log)).ToList();

        var ys = panels.SelectMany(p => p.Curves.Concat(p.Theory))
            .SelectMany(c => c.Lo.Concat(c.Hi).Concat(c.Mean)).Where(double.IsFinite).ToList();
        var (yMin, yMax) = ys.Count > 0 ? (ys.Min(), ys.Max()) : (log ? -1.0 : 0.0, 1.0);
        if (yMax - yMin < 1e-12) (yMin, yMax) = (yMin - (log ? 0.5 : Math.Max(Math.Abs(yMin) * 0.1, 0.5)), yMax + (log ? 0.5 : Math.Max(Math.Abs(yMax) * 0.1, 0.5)));
        var pad = 0.04 * (yMax - yMin);
        (yMin, yMax) = (yMin - pad, yMax + pad);
        var xMax = Math.Max(2, rows.Max(r => r.Iteration));

        using var surface = FigureKit.Page(Width, Height, $"{Symbol(metric)}, d = {d}", (Width - LegendWidth) / 2f);
        var canvas = surface.Canvas;

        // The first panel is wider by the y label so that every data area has the same width.
        var panelWidth = (Width - LegendWidth - YLabelPad - PanelGap * (panels.Count - 1)) / (float)Math.Max(1, panels.Count);
        var left = 0f;
        for (var i = 0; i < panels.Count; i++)
        {
            var width = panelWidth + (i == 0 ? YLabelPad : 0);
            using var plot = PanelPlot(panels[i], colours, log, i == 0 ? Symbol(metric) : null, yMin, yMax, xMax);
            plot.Layout.Fixed(new PixelPadding(TickPad + (i == 0 ? YLabelPad : 0), 12, 52, 40));
            FigureKit.Blit(canvas, plot, left, TitleHeight, (int)width, Height - TitleHeight);
            left += width + PanelGap;
        }

        using (var legend = LegendPlot(panels, colours, rows.Select(r => r.Seed).Distinct().Count(), metric, d))
            FigureKit.Blit(canvas, legend, Width - LegendWidth, TitleHeight + 28, LegendWidth, Height - TitleHeight - 28 - 40);

        FigureKit.Save(surface, path);
    }

    private static Panel BuildPanel(Metric metric, int d, Setting setting, List<GaussianRow> rows, bool log)
    {
        var curves = new List<Curve>();
        var theory = new List<Curve>();
        var omitted = new List<int>();
        foreach (var cell in rows.GroupBy(r => r.N).OrderBy(g => g.Key))
        {
            var curve = Summarize(cell.Key, cell, metric, log);
            if (curve is null)
            {
                omitted.Add(cell.Key);
                continue;
            }
            if (curve.X.Length == 0) continue; // every value NaN: nothing to draw, nothing to explain as a zero
            curves.Add(curve);
            // Exact expectations: every setting's trace ratio and mean error, Replace's det ratio.
            if (setting == Setting.Replace || metric != Metric.DetRatio)
            {
                var expected = GaussianTheory.Expectations(setting, d, cell.Key, (int)curve.X.Max());
                var y = curve.X.Select(t => Theory(metric, setting, d, cell.Key, (int)t, expected[(int)t - 1], log)).ToArray();
                if (y.All(double.IsFinite)) theory.Add(new Curve(cell.Key, curve.X, y, y, y));
            }
        }
        return new Panel(setting, curves, theory, omitted);
    }

    /// <summary>
    /// Mean and 2.5–97.5th percentile over seeds at each iteration. On a log axis this works on natural
    /// logs (log det straight from the CSV, so det underflow does not matter): the mean is
    /// exp(logsumexp − log S) and percentiles commute with log. Null when some seed's value is 0
    /// (log = −∞, e.g. a singular fit), which a log axis cannot show.
    /// </summary>
    private static Curve? Summarize(int n, IEnumerable<GaussianRow> cell, Metric metric, bool log)
    {
        var x = new List<double>();
        var mean = new List<double>();
        var lo = new List<double>();
        var hi = new List<double>();
        foreach (var it in cell.GroupBy(r => r.Iteration).OrderBy(g => g.Key))
        {
            var v = it.Select(r => log ? LogValue(r, metric) : Value(r, metric)).Where(z => !double.IsNaN(z)).Order().ToArray();
            if (v.Length == 0) continue;
            // A zero cannot sit on a log axis: draw up to the last iteration where every seed is positive
            // (nothing, when that is none), and say where the curve stops.
            if (log && double.IsNegativeInfinity(v[0]))
                return x.Count == 0 ? null : new Curve(n, [.. x], [.. mean], [.. lo], [.. hi], it.Key);
            var scale = log ? 1 / FigureKit.Ln10 : 1;
            x.Add(it.Key);
            mean.Add((log ? FigureKit.LogSumExp(v) - Math.Log(v.Length) : v.Average()) * scale);
            lo.Add(FigureKit.Percentile(v, 2.5) * scale);
            hi.Add(FigureKit.Percentile(v, 97.5) * scale);
        }
        return new Curve(n, [.. x], [.. mean], [.. lo], [.. hi]);
    }

    private static Plot PanelPlot(Panel panel, Dictionary<int, Color> colours, bool log, string? yLabel,
        double yMin, double yMax, int xMax)
    {
        var plot = new Plot();
        foreach (var c in panel.Curves)
        {
            var band = plot.Add.FillY(c.X, c.Lo, c.Hi);
            band.FillColor = colours[c.N].WithAlpha(0.2);
            band.LineWidth = 0;
        }
        foreach (var c in panel.Curves)
        {
            var line = plot.Add.ScatterLine(c.X, c.Mean, colours[c.N]);
            line.LineWidth = 2;
        }
        // Theory on top, darker and dashed, so it stays visible where it lies on the mean.
        foreach (var c in panel.Theory)
        {
            var line = plot.Add.ScatterLine(c.X, c.Mean, colours[c.N].Darken(0.35));
            line.LineWidth = 2;
            line.LinePattern = LinePattern.Dashed;
        }

        plot.Title(panel.Setting.Name(), 17);
        plot.XLabel("model-fitting iteration", 15);
        if (yLabel is not null) plot.YLabel(yLabel, 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (log) plot.Axes.Left.TickGenerator = FigureKit.LogTicks(yMin, yMax);
        plot.Axes.SetLimits(0.5, xMax + 0.5, yMin, yMax);
        plot.HideLegend();
        plot.Font.Set(FigureKit.Font);
        return plot;
    }

    /// <summary>A legend-only plot for the strip right of the panels, so no legend covers data.</summary>
    private static Plot LegendPlot(List<Panel> panels, Dictionary<int, Color> colours, int seeds, Metric metric, int d)
    {
        var items = new List<LegendItem>();
        var drawn = panels.SelectMany(p => p.Curves.Select(c => c.N)).Distinct().Order();
        foreach (var n in drawn)
            items.Add(new LegendItem { LabelText = $"n = {n}", LineColor = colours[n], LineWidth = 3, FillColor = colours[n].WithAlpha(0.2) });
        var grey = Colors.DimGray;
        items.Add(new LegendItem { LabelText = $"mean over {seeds} seeds", LineColor = grey, LineWidth = 2 });
        items.Add(FigureKit.BandEntry());
        if (panels.Any(p => p.Theory.Count > 0))
            items.Add(FigureKit.ExactEntry(metric == Metric.DetRatio ? "exact E[·], replace" : "exact E[·]"));

        // Curves left out or cut short (a zero value cannot sit on a log axis), saying where when not everywhere.
        var quantity = metric == Metric.DetRatio ? "det" : metric == Metric.TraceRatio ? "trace" : "error";
        var omitted = panels.SelectMany(p => p.Omitted).Distinct().Order().ToList();
        var cut = panels.SelectMany(p => p.Curves.Where(c => c.CutAt is not null).Select(c => (p.Setting, c.N, At: c.CutAt!.Value))).ToList();
        if (omitted.Count + cut.Count > 0) items.Add(new LegendItem { LabelText = $"{quantity} = 0 in a seed, not drawn:" });
        foreach (var n in omitted)
        {
            var where = panels.Where(p => p.Omitted.Contains(n)).Select(p => p.Setting.Name()).ToList();
            var why = metric == Metric.DetRatio && n <= d ? "singular fit" : where.Count < panels.Count ? string.Join(", ", where) : "all";
            var text = $"n = {n} ({why})";
            items.Add(new LegendItem { LabelText = text, LineColor = colours[n], LineWidth = 3, LinePattern = LinePattern.Dotted });
        }
        foreach (var (setting, n, at) in cut)
            items.Add(new LegendItem
            {
                LabelText = $"n = {n} from t = {at} ({setting.Name()})",
                LineColor = colours[n], LineWidth = 3, LinePattern = LinePattern.Dotted,
            });

        var plot = new Plot();
        plot.Layout.Frameless();
        plot.HideGrid();
        var legend = plot.ShowLegend(items, Alignment.UpperLeft);
        // Small enough that a legend with every note still fits the figure's height.
        legend.FontSize = 12;
        legend.SymbolWidth = 34;
        legend.FontName = FigureKit.Font;
        legend.OutlineColor = Colors.LightGray;
        legend.ShadowFillStyle.IsVisible = false;
        return plot;
    }

    /// <summary>Whether the trace ratio's finite positive seed values span more than a factor 10 (then a log axis).</summary>
    private static bool SpansMoreThan10(List<GaussianRow> rows)
    {
        var positive = rows.Select(r => r.TraceRatio).Where(z => double.IsFinite(z) && z > 0).ToList();
        return positive.Count > 0 && positive.Max() > 10 * positive.Min();
    }

    private static double Value(GaussianRow r, Metric m) => m switch
    {
        Metric.SquaredErrorMean => r.SquaredErrorMean,
        Metric.DetRatio => r.DetRatio,
        _ => r.TraceRatio,
    };

    private static double LogValue(GaussianRow r, Metric m) => m == Metric.DetRatio ? r.LogDetRatio : Math.Log(Value(r, m));

    private static double Theory(Metric metric, Setting setting, int d, int n, int t, GaussianTheory.Expectation expected, bool log) => metric switch
    {
        Metric.DetRatio => setting == Setting.Replace ? GaussianTheory.LogExpectedDetRatio(d, n, t) / FigureKit.Ln10 : double.NaN,
        Metric.SquaredErrorMean => Math.Log10(expected.SquaredErrorMean),
        _ => log ? Math.Log10(expected.TraceRatio) : expected.TraceRatio,
    };

    private static string Slug(Metric m) => m switch
    {
        Metric.SquaredErrorMean => "squared_error_mean",
        Metric.DetRatio => "det_ratio",
        _ => "trace_ratio",
    };

    private static string Symbol(Metric m) => m switch
    {
        Metric.SquaredErrorMean => "‖μ_t − μ_0‖²",
        Metric.DetRatio => "det(Σ_t)/det(Σ_0)",
        _ => "tr(Σ_t)/tr(Σ_0)",
    };
}
