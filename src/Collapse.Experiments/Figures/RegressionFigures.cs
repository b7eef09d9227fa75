using Collapse.Engine.Scenarios;

namespace Collapse.Experiments.Figures;

/// <summary>
/// The linear-regression figures (the authors', after Gerstgrasser et al. 2024), drawn from
/// <c>regression.csv</c> rows. For each (d, σ²): test MSE against model-fitting iteration, a panel per
/// setting (shared log y range), one line per n = mean over seeds with a 95% band over seeds, and the exact
/// expectation dashed in the line's colour where the theory gives one. For each σ²: the last iteration's
/// mean test MSE against n (log-log), a panel per setting, one line per d, where Replace's error growing
/// with t and Accumulate's staying bounded read at a glance.
/// </summary>
public static class RegressionFigures
{
    /// <summary>Every figure's size in pixels.</summary>
    public const int Width = 1500, Height = 500;

    private const int TitleHeight = 46, LegendWidth = 270;
    private const float TickPad = 70, YLabelPad = 30, PanelGap = 14;

    /// <summary>The test-MSE-against-iteration figure of one (d, σ²), named as the Gaussian ones (metric, then d).</summary>
    public static string TestMseFile(int dim, double sigmaSquared) => $"regression-test_mse-d{dim}-sigma2_{CsvNumber.Format(sigmaSquared)}.png";

    /// <summary>The last-iteration test MSE against n of one σ².</summary>
    public static string FinalFile(double sigmaSquared) => $"regression-final_test_mse-sigma2_{CsvNumber.Format(sigmaSquared)}.png";

    /// <summary>
    /// Writes <see cref="TestMseFile"/> for every (d, σ²) and <see cref="FinalFile"/> for every σ² in the rows;
    /// returns the paths. <paramref name="theory"/>(setting, d, n, σ², T) gives a cell's exact expected test MSE
    /// at iterations 1..T (index t − 1, T the cell's last iteration); it is called once per cell, and a null
    /// array, NaN (no exact value) or ±∞ (divergent) entry draws nothing there. Throws
    /// <see cref="ArgumentException"/> for no rows or an iteration below 1.
    /// </summary>
    public static IReadOnlyList<string> DrawAll(IReadOnlyList<RegressionRow> rows, string figuresDirectory,
        Func<Setting, int, int, double, int, double[]?>? theory = null)
    {
        Validate(rows);
        Directory.CreateDirectory(figuresDirectory);
        var cells = rows.GroupBy(r => (r.Setting, r.Dim, r.N, r.NoiseVariance))
            .Select(g => Summarize(g.Key.Setting, g.Key.Dim, g.Key.N, g.Key.NoiseVariance, g.ToList(), theory)).ToList();
        // One colour per n (and per d) across every figure, so a reader can match them between figures.
        var byN = FigureKit.Palette(rows.Select(r => r.N).Distinct().Order());
        var byDim = FigureKit.Palette(rows.Select(r => r.Dim).Distinct().Order());
        var paths = new List<string>();
        foreach (var sigma in cells.GroupBy(c => c.SigmaSquared).OrderBy(g => g.Key))
        {
            foreach (var dim in sigma.GroupBy(c => c.Dim).OrderBy(g => g.Key))
            {
                var path = Path.Combine(figuresDirectory, TestMseFile(dim.Key, sigma.Key));
                DrawTestMse(dim.Key, sigma.Key, dim.ToList(), byN, path);
                paths.Add(path);
            }
            var final = Path.Combine(figuresDirectory, FinalFile(sigma.Key));
            DrawFinal(sigma.Key, sigma.ToList(), byDim, final);
            paths.Add(final);
        }
        return paths;
    }

    /// <summary>What the row parser leaves to the reader: some rows, iterations from 1 (the theory is indexed t − 1).</summary>
    private static void Validate(IReadOnlyList<RegressionRow> rows)
    {
        if (rows.Count == 0)
            throw new ArgumentException("no regression rows to draw: a regression.csv needs at least one row under its header", nameof(rows));
        if (rows.FirstOrDefault(r => r.Iteration < 1) is { } bad)
            throw new ArgumentException($"iteration {bad.Iteration} ({bad.Setting.Name()} d={bad.Dim} n={bad.N} σ²={CsvNumber.Format(bad.NoiseVariance)}, seed {bad.Seed}): iterations count from 1 (the fit to the real labels)", nameof(rows));
    }

    /// <summary>
    /// One cell over seeds, in data units: per iteration with a finite test MSE, the mean and the
    /// 2.5–97.5th percentile (non-finite seeds left out); <see cref="Exact"/> the theory's 1..T, or null.
    /// </summary>
    private sealed record Cell(Setting Setting, int Dim, int N, double SigmaSquared, int Last, int Seeds,
        double[] X, double[] Mean, double[] Lo, double[] Hi, double[]? Exact);

    private static Cell Summarize(Setting setting, int dim, int n, double sigmaSquared, List<RegressionRow> rows,
        Func<Setting, int, int, double, int, double[]?>? theory)
    {
        var (x, mean, lo, hi) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        foreach (var it in rows.GroupBy(r => r.Iteration).OrderBy(g => g.Key))
        {
            var v = it.Select(r => r.TestMse).Where(double.IsFinite).Order().ToArray();
            if (v.Length == 0) continue;
            x.Add(it.Key);
            mean.Add(v.Average());
            lo.Add(FigureKit.Percentile(v, 2.5));
            hi.Add(FigureKit.Percentile(v, 97.5));
        }
        var last = rows.Max(r => r.Iteration);
        var exact = theory?.Invoke(setting, dim, n, sigmaSquared, last);
        // A short array is a bug in the theory, not a cell without values: say so rather than draw part of it.
        if (exact is not null && exact.Length < last)
            throw new InvalidOperationException($"the regression theory gave {exact.Length} values for {setting.Name()} d={dim} n={n} σ²={CsvNumber.Format(sigmaSquared)}, which runs {last} iterations");
        return new Cell(setting, dim, n, sigmaSquared, last, rows.Select(r => r.Seed).Distinct().Count(),
            [.. x], [.. mean], [.. lo], [.. hi], exact);
    }

    /// <summary>A curve in plot units (log10 y): mean line and band.</summary>
    private sealed record Series(Color Colour, double[] X, double[] Mean, double[] Lo, double[] Hi);

    /// <summary>A run of consecutive points where the exact value is drawable, in plot units.</summary>
    private sealed record Dashed(Color Colour, double[] X, double[] Y);

    private sealed record Panel(Setting Setting, List<Series> Curves, List<Dashed> Exact);

    private static void DrawTestMse(int dim, double sigmaSquared, List<Cell> cells, Dictionary<int, Color> colours, string path)
    {
        var panels = cells.GroupBy(c => c.Setting).OrderBy(g => g.Key).Select(g =>
        {
            var ordered = g.OrderBy(c => c.N).ToList();
            var curves = ordered.Where(c => c.X.Length > 0).Select(c => Curve(colours[c.N], c.X, c.Mean, c.Lo, c.Hi)).ToList();
            var exact = ordered.Where(c => c.Exact is not null)
                .SelectMany(c => Runs(colours[c.N], Enumerable.Range(1, c.Last).Select(t => (double)t), c.Exact!.Take(c.Last))).ToList();
            return new Panel(g.Key, curves, exact);
        }).ToList();
        var xMax = Math.Max(2, cells.Max(c => c.Last));
        var drawn = cells.Where(c => c.X.Length > 0).Select(c => c.N).Distinct().Order();
        Compose(path, $"Linear regression: test MSE, d = {dim}, σ² = {FigureKit.Format(sigmaSquared)}", panels, "model-fitting iteration",
            0.5, xMax + 0.5, () => new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true }, markers: false,
            drawn.Select(n => ($"n = {n}", colours[n])), cells.Max(c => c.Seeds));
    }

    private static void DrawFinal(double sigmaSquared, List<Cell> cells, Dictionary<int, Color> colours, string path)
    {
        var panels = cells.GroupBy(c => c.Setting).OrderBy(g => g.Key).Select(g =>
        {
            var curves = new List<Series>();
            var exact = new List<Dashed>();
            foreach (var byDim in g.GroupBy(c => c.Dim).OrderBy(d => d.Key))
            {
                var ordered = byDim.OrderBy(c => c.N).ToList();
                // Each cell's own last iteration (a cell whose last iteration has no finite value is left out there).
                var points = ordered.Select(c => (c.N, At: Array.IndexOf(c.X, (double)c.Last), c)).Where(p => p.At >= 0).ToList();
                if (points.Count > 0)
                    curves.Add(Curve(colours[byDim.Key], points.Select(p => (double)p.N).ToArray(), points.Select(p => p.c.Mean[p.At]).ToArray(),
                        points.Select(p => p.c.Lo[p.At]).ToArray(), points.Select(p => p.c.Hi[p.At]).ToArray(), logX: true));
                exact.AddRange(Runs(colours[byDim.Key], ordered.Select(c => Math.Log10(c.N)), ordered.Select(c => c.Exact?[c.Last - 1] ?? double.NaN)));
            }
            return new Panel(g.Key, curves, exact);
        }).ToList();
        var xs = cells.Select(c => Math.Log10(c.N)).ToList();
        var (xMin, xMax) = (xs.Min(), xs.Max());
        if (xMax - xMin < 0.6) (xMin, xMax) = ((xMin + xMax) / 2 - 0.3, (xMin + xMax) / 2 + 0.3);
        var xPad = 0.05 * (xMax - xMin);
        var lasts = cells.Select(c => c.Last).Distinct().ToList();
        var at = lasts.Count == 1 ? $"iteration t = {lasts[0]}" : "the last iteration";
        var drawn = cells.Where(c => Array.IndexOf(c.X, (double)c.Last) >= 0).Select(c => c.Dim).Distinct().Order();
        Compose(path, $"Linear regression: test MSE at {at} against n, σ² = {FigureKit.Format(sigmaSquared)}", panels,
            "n (labelled points per fit)", xMin - xPad, xMax + xPad, () => FigureKit.LogTicks(xMin - xPad, xMax + xPad), markers: true,
            drawn.Select(d => ($"d = {d}", colours[d])), cells.Max(c => c.Seeds));
    }

    /// <summary>
    /// A curve in plot units: log10 of the mean and band. Points whose mean is not positive (a log axis
    /// cannot show them) are left out; a band edge at 0 (σ² = 0 fits exactly) becomes −∞, the panel's bottom.
    /// </summary>
    private static Series Curve(Color colour, double[] x, double[] mean, double[] lo, double[] hi, bool logX = false)
    {
        var keep = Enumerable.Range(0, x.Length).Where(i => mean[i] > 0).ToList();
        return new Series(colour, keep.Select(i => logX ? Math.Log10(x[i]) : x[i]).ToArray(), keep.Select(i => Math.Log10(mean[i])).ToArray(),
            keep.Select(i => Math.Log10(Math.Max(0, lo[i]))).ToArray(), keep.Select(i => Math.Log10(hi[i])).ToArray());
    }

    /// <summary>The runs of consecutive points whose exact value is finite and positive (drawable on a log axis), in plot units.</summary>
    private static IEnumerable<Dashed> Runs(Color colour, IEnumerable<double> x, IEnumerable<double> exact)
    {
        var (rx, ry) = (new List<double>(), new List<double>());
        foreach (var (px, py) in x.Zip(exact))
        {
            if (double.IsFinite(py) && py > 0)
            {
                rx.Add(px);
                ry.Add(Math.Log10(py));
                continue;
            }
            if (rx.Count > 0) yield return new Dashed(colour, [.. rx], [.. ry]);
            (rx, ry) = (new List<double>(), new List<double>());
        }
        if (rx.Count > 0) yield return new Dashed(colour, [.. rx], [.. ry]);
    }

    /// <summary>
    /// A page of panels (one y range, log ticks) with the legend strip right of them, as <see cref="GaussianFigures"/>
    /// lays it out; <paramref name="xTicks"/> makes each panel its own tick generator (they keep state between renders).
    /// </summary>
    private static void Compose(string path, string title, List<Panel> panels, string xLabel, double xMin, double xMax, Func<ITickGenerator> xTicks,
        bool markers, IEnumerable<(string Label, Color Colour)> legendCurves, int seeds)
    {
        var ys = panels.SelectMany(p => p.Curves.SelectMany(c => c.Mean.Concat(c.Lo).Concat(c.Hi)).Concat(p.Exact.SelectMany(e => e.Y)))
            .Where(double.IsFinite).ToList();
        var (yMin, yMax) = ys.Count > 0 ? (ys.Min(), ys.Max()) : (-1.0, 1.0);
        if (yMax - yMin < 1e-12) (yMin, yMax) = (yMin - 0.5, yMax + 0.5);
        var pad = 0.04 * (yMax - yMin);
        (yMin, yMax) = (yMin - pad, yMax + pad);

        using var surface = FigureKit.Page(Width, Height, title, (Width - LegendWidth) / 2f, Width - LegendWidth - 20);
        var canvas = surface.Canvas;
        // The first panel is wider by the y label so that every data area has the same width.
        var panelWidth = (Width - LegendWidth - YLabelPad - PanelGap * (panels.Count - 1)) / (float)panels.Count;
        var left = 0f;
        for (var i = 0; i < panels.Count; i++)
        {
            var width = panelWidth + (i == 0 ? YLabelPad : 0);
            using var plot = PanelPlot(panels[i], i == 0, markers, xLabel, xMin, xMax, xTicks(), yMin, yMax);
            plot.Layout.Fixed(new PixelPadding(TickPad + (i == 0 ? YLabelPad : 0), 12, 52, 40));
            FigureKit.Blit(canvas, plot, left, TitleHeight, (int)width, Height - TitleHeight);
            left += width + PanelGap;
        }
        var curves = legendCurves.ToList();
        List<LegendItem> extra = [FigureKit.BandEntry()];
        if (panels.Any(p => p.Exact.Count > 0)) extra.Add(FigureKit.ExactEntry("exact E[test MSE]"));
        using (var legend = FigureKit.CurveLegend(curves, seeds, extra))
            FigureKit.Blit(canvas, legend, Width - LegendWidth, TitleHeight + 28, LegendWidth, Math.Min(Height - TitleHeight - 68, 40 + 24 * (curves.Count + extra.Count + 1)));
        FigureKit.Save(surface, path);
    }

    private static Plot PanelPlot(Panel panel, bool first, bool markers, string xLabel, double xMin, double xMax, ITickGenerator xTicks, double yMin, double yMax)
    {
        var plot = new Plot();
        foreach (var c in panel.Curves)
        {
            // A band edge at −∞ (a seed's error exactly 0) is drawn to the panel's bottom.
            var band = plot.Add.FillY(c.X, c.Lo.Select(v => Math.Max(v, yMin)).ToArray(), c.Hi.Select(v => Math.Min(v, yMax)).ToArray());
            band.FillColor = c.Colour.WithAlpha(0.2);
            band.LineWidth = 0;
        }
        foreach (var c in panel.Curves)
        {
            var line = plot.Add.ScatterLine(c.X, c.Mean, c.Colour);
            line.LineWidth = 2;
            line.MarkerSize = markers || c.X.Length == 1 ? 6 : 0;
        }
        // Theory on top, darker and dashed (as in the Gaussian figures), so it stays visible where it lies on the mean.
        foreach (var e in panel.Exact)
        {
            var line = plot.Add.ScatterLine(e.X, e.Y, e.Colour.Darken(0.35));
            line.LineWidth = 2;
            line.LinePattern = LinePattern.Dashed;
            // A lone drawable point (one n, or one finite iteration) is no line: mark it.
            line.MarkerSize = e.X.Length == 1 || markers ? 5 : 0;
            line.MarkerShape = MarkerShape.OpenCircle;
        }
        plot.Title(panel.Setting.Name(), 17);
        plot.XLabel(xLabel, 15);
        if (first) plot.YLabel("test MSE", 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = FigureKit.LogTicks(yMin, yMax);
        plot.Axes.SetLimits(xMin, xMax, yMin, yMax);
        plot.HideLegend();
        plot.Font.Set(FigureKit.Font);
        return plot;
    }
}
