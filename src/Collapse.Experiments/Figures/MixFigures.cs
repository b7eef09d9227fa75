using Collapse.Engine.Reports;

namespace Collapse.Experiments.Figures;

/// <summary>
/// The paper's two figures of the value-of-synthetic-data study (docs/DESIGN.md, section D), drawn from
/// <c>mix.csv</c>: a heatmap of the mean test metric over seeds on the (num_real, num_synthetic) grid,
/// one categorical cell per grid value (the counts are uneven), and the metric against proportion real
/// (log x), one line per num_real (mean over seeds) with a 95% band over seeds.
/// </summary>
public static class MixFigures
{
    public const string HeatmapFile = "mix-heatmap.png";
    public const string ProportionFile = "mix-proportion.png";
    const int TitleHeight = 46, LegendWidth = 230, PanelWidth = 640, PanelHeight = 430;
    // Below these a cell's mean no longer fits legibly: the colour bar alone carries it.
    const float MinLabelCellWidth = 46, MinLabelCellHeight = 18;

    /// <summary>
    /// Writes <c>mix-heatmap.png</c> and <c>mix-proportion.png</c> for one family's rows (a file per
    /// family: with several families, each gets its own pair, named <c>mix-heatmap-FAMILY.png</c>);
    /// returns the paths written (none when there are no rows). <paramref name="header"/> is the file's,
    /// whose family columns name the fixed settings in the titles.
    /// </summary>
    public static IReadOnlyList<string> DrawAll(string header, IReadOnlyList<MixRow> rows, string figuresDirectory)
    {
        if (rows.Count == 0) return [];
        Directory.CreateDirectory(figuresDirectory);
        var families = rows.GroupBy(r => r.Family).ToList();
        var paths = new List<string>();
        foreach (var family in families)
        {
            var subset = family.ToList();
            var suffix = families.Count == 1 ? "" : "-" + family.Key;
            var heatmap = Path.Combine(figuresDirectory, HeatmapFile.Replace(".png", suffix + ".png", StringComparison.Ordinal));
            DrawHeatmap(header, subset, heatmap);
            paths.Add(heatmap);
            var proportion = Path.Combine(figuresDirectory, ProportionFile.Replace(".png", suffix + ".png", StringComparison.Ordinal));
            DrawProportion(header, subset, proportion);
            paths.Add(proportion);
        }
        return paths;
    }

    /// <summary>
    /// Everything drawn from a run's <c>mix.csv</c>: both figures into <paramref name="figuresDirectory"/>
    /// and <c>summary.md</c> beside the CSV (with a line about the run from <c>manifest.json</c> when one is
    /// there). Throws <see cref="FormatException"/> for a file that is not one family's mix.csv.
    /// </summary>
    public static (IReadOnlyList<string> Figures, string Summary) Redraw(string csvPath, string figuresDirectory)
    {
        var (header, rows) = MixRow.ReadAll(csvPath);
        Validate(csvPath, rows);
        var directory = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var figures = DrawAll(header, rows, figuresDirectory);
        var summary = MixSummary.Write(directory, rows, header, RunLine(RunManifest.TryLoad(Path.Combine(directory, "manifest.json"))));
        return (figures, summary);
    }

    /// <summary>What the row parser leaves to the reader: positive num_real, num_synthetic ≥ 0, one family.</summary>
    static void Validate(string path, IReadOnlyList<MixRow> rows)
    {
        if (rows.FirstOrDefault(r => r.NumReal <= 0 || r.NumSynthetic < 0) is { } bad)
            throw new FormatException($"{path}: num_real {bad.NumReal}, num_synthetic {bad.NumSynthetic} (seed {bad.Seed}): num_real must be positive and num_synthetic 0 or more");
        var families = rows.Select(r => r.Family).Distinct().ToList();
        if (families.Count > 1)
            throw new FormatException($"{path}: rows of several families ({string.Join(", ", families)}); one mix.csv holds one family");
    }

    /// <summary>"Run: `collapse run mix …` at commit 4220c7d; generator fitted on 10,000 real records per seed."</summary>
    static string? RunLine(RunManifest? manifest)
    {
        if (manifest is null || manifest.Experiment != "mix") return null;
        var line = $"Run: `{manifest.Command}`";
        if (manifest.Commit is { Length: >= 7 } commit && commit != "unknown") line += $" at commit {commit[..7]}";
        if (manifest.Status != "complete") line += $" ({manifest.Status})";
        var config = manifest.Configuration;
        var generator = config?["generator"]?.ToString();
        if (generator == "truth") line += "; synthetic data sampled from the true distribution";
        else if (generator is not null && config?["generator_real"]?.ToString() is { } real
            && int.TryParse(real, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
            line += $"; generator {generator} on {MixSummary.Count(n)} real records per seed";
        if (config?["generator_shift"]?.ToString() is { } shift && shift != "0") line += $", shifted by {shift}";
        if (MixSummary.LmProtocol(config) is { } protocol) line += "; " + protocol;
        return line + ".";
    }

    /// <summary>Mean over seeds of every grid point (non-finite values left out; NaN when none is finite).</summary>
    static Dictionary<(int Real, int Synthetic), double> Means(IReadOnlyList<MixRow> rows) =>
        rows.GroupBy(r => (r.NumReal, r.NumSynthetic)).ToDictionary(g => g.Key, g =>
        {
            var v = g.Select(r => r.TestMetric).Where(double.IsFinite).ToList();
            return v.Count > 0 ? v.Average() : double.NaN;
        });

    static string Seeds(IReadOnlyList<MixRow> rows)
    {
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        return seeds == 1 ? "1 seed" : $"{seeds} seeds";
    }

    static void DrawHeatmap(string header, IReadOnlyList<MixRow> rows, string path)
    {
        var reals = rows.Select(r => r.NumReal).Distinct().Order().ToList();
        var synthetic = rows.Select(r => r.NumSynthetic).Distinct().Order().ToList();
        var means = Means(rows);
        var finite = means.Values.Where(double.IsFinite).ToList();
        var (lo, hi, clipped) = ColourRange(finite);

        // Cells wide enough for "31,623" under them and the mean inside; the panel grows with the grid.
        var plotWidth = Math.Max(PanelWidth, 180 + synthetic.Count * 72);
        var plotHeight = Math.Max(PanelHeight, 110 + reals.Count * 40);
        var width = plotWidth;
        var height = TitleHeight + plotHeight;
        var family = rows[0].Family;
        using var surface = FigureKit.Page(width, height, $"{MixSummary.Title(header, rows)}: mean {MixSummary.MetricName(family)} over {Seeds(rows)}", width / 2f, width - 20);
        var canvas = surface.Canvas;

        using var plot = new Plot();
        // One rectangle per grid point, cell (j, i) centred on (j, i): ScottPlot's Heatmap draws nothing for a
        // grid one cell wide or high (a single num_real or num_synthetic), so it only feeds the colour bar.
        var colormap = new ScottPlot.Colormaps.Viridis();
        var scale = plot.Add.Heatmap(new double[,] { { lo, hi }, { lo, hi } });
        scale.Colormap = colormap;
        scale.ManualRange = new ScottPlot.Range(lo, hi);
        scale.IsVisible = false;
        for (var i = 0; i < reals.Count; i++)
            for (var j = 0; j < synthetic.Count; j++)
            {
                var m = means.GetValueOrDefault((reals[i], synthetic[j]), double.NaN);
                var cell = plot.Add.Rectangle(new CoordinateRect(j - 0.5, j + 0.5, i - 0.5, i + 0.5));
                cell.FillColor = double.IsFinite(m) ? colormap.GetColor(Math.Clamp((m - lo) / (hi - lo), 0, 1)) : Colors.LightGray;
                cell.LineWidth = 1;
                cell.LineColor = Colors.White;
            }
        var colourBar = plot.Add.ColorBar(scale);
        colourBar.Label = MixRow.MetricLabel(family) + (clipped ? ", colour clipped at " + FigureKit.Format(hi) : "");
        colourBar.LabelStyle.FontSize = 13;
        colourBar.LabelStyle.FontName = FigureKit.Font;
        colourBar.Axis.TickLabelStyle.FontName = FigureKit.Font;

        const float left = 80, right = 130, top = 12, bottom = 50;
        var cellWidth = (plotWidth - left - right) / synthetic.Count;
        var cellHeight = (plotHeight - top - bottom) / reals.Count;
        if (cellWidth >= MinLabelCellWidth && cellHeight >= MinLabelCellHeight)
        {
            var fontSize = Math.Clamp(Math.Min(cellWidth / 5.2f, cellHeight / 2.2f), 9f, 14f);
            var decimals = CellDecimals(finite);
            for (var i = 0; i < reals.Count; i++)
                for (var j = 0; j < synthetic.Count; j++)
                {
                    var m = means.GetValueOrDefault((reals[i], synthetic[j]), double.NaN);
                    if (!double.IsFinite(m)) continue;
                    var text = plot.Add.Text(m.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace('-', '−'), j, i);
                    text.Alignment = Alignment.MiddleCenter;
                    text.LabelFontSize = fontSize;
                    text.LabelFontName = FigureKit.Font;
                    // Viridis is dark at its low end: light text there, dark text on the yellow-green end.
                    text.LabelFontColor = (Math.Min(m, hi) - lo) / (hi - lo) < 0.55 ? Colors.White : Colors.Black;
                }
        }

        plot.Axes.Bottom.TickGenerator = CountTicks(synthetic);
        plot.Axes.Left.TickGenerator = CountTicks(reals);
        plot.XLabel("num_synthetic (synthetic records added)", 13);
        plot.YLabel("num_real (real records)", 13);
        plot.Axes.SetLimits(-0.5, synthetic.Count - 0.5, -0.5, reals.Count - 0.5);
        plot.HideGrid();
        plot.Font.Set(FigureKit.Font);
        plot.Layout.Fixed(new PixelPadding(left, right, bottom, top));
        FigureKit.Blit(canvas, plot, 0, TitleHeight, plotWidth, plotHeight);
        FigureKit.Save(surface, path);
    }

    /// <summary>
    /// The colour scale's range: the means' own, unless the largest are outliers (one num_real's fit on a
    /// handful of points can be many times worse than the rest), which would leave every other cell one
    /// colour; then it stops at the 90th percentile and the cells above it saturate (their means are
    /// written in them).
    /// </summary>
    static (double Lo, double Hi, bool Clipped) ColourRange(List<double> means)
    {
        if (means.Count == 0) return (0, 1, false);
        var sorted = means.Order().ToArray();
        var (lo, hi) = (sorted[0], sorted[^1]);
        if (hi - lo < 1e-12) return (lo - 0.5, hi + 0.5, false);
        var q90 = FigureKit.Percentile(sorted, 90);
        if (q90 > lo && hi - q90 > 2 * (q90 - lo)) return (lo, q90, true);
        return (lo, hi, false);
    }

    /// <summary>Ticks at the cells' centres 0, 1, 2, … labelled by the counts they stand for.</summary>
    static ScottPlot.TickGenerators.NumericManual CountTicks(List<int> counts)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var i = 0; i < counts.Count; i++) ticks.AddMajor(i, MixSummary.Count(counts[i]));
        return ticks;
    }

    /// <summary>About four significant digits for the typical (median) mean, as the summary's table.</summary>
    static int CellDecimals(List<double> means)
    {
        if (means.Count == 0) return 2;
        var sorted = means.Select(Math.Abs).Order().ToList();
        var typical = sorted[sorted.Count / 2];
        return Math.Clamp(3 - (typical > 0 ? (int)Math.Floor(Math.Log10(typical)) : 0), 0, 4);
    }

    sealed record Curve(int NumReal, double[] X, double[] Mean, double[] Lo, double[] Hi);

    static void DrawProportion(string header, IReadOnlyList<MixRow> rows, string path)
    {
        var reals = rows.Select(r => r.NumReal).Distinct().Order().ToList();
        var colours = FigureKit.Palette(reals);
        var curves = Curves(rows, reals);
        // Log y, as the KDE figures, where the metric is positive and spans a factor of 3 or more (a few
        // real points can be far worse than the rest); linear otherwise (an NLL can be ≤ 0).
        var all = curves.SelectMany(c => c.Lo.Concat(c.Hi)).Where(double.IsFinite).ToList();
        var log = all.Count > 0 && all.Min() > 0 && all.Max() / all.Min() >= 3;
        if (log) curves = curves.Select(c => c with { Mean = Log10(c.Mean), Lo = Log10(c.Lo), Hi = Log10(c.Hi) }).ToList();
        var width = PanelWidth + LegendWidth;
        var height = TitleHeight + PanelHeight;
        var family = rows[0].Family;
        using var surface = FigureKit.Page(width, height, $"{MixSummary.Title(header, rows)}: {MixSummary.MetricName(family)} against proportion of real data", width / 2f, width - 20);
        var canvas = surface.Canvas;

        using var plot = new Plot();
        foreach (var c in curves)
        {
            var band = plot.Add.FillY(c.X, c.Lo, c.Hi);
            band.FillColor = colours[c.NumReal].WithAlpha(0.2);
            band.LineWidth = 0;
        }
        foreach (var c in curves)
        {
            var line = plot.Add.ScatterLine(c.X, c.Mean, colours[c.NumReal]);
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        var xs = curves.SelectMany(c => c.X).ToList();
        var (xMin, xMax) = xs.Count > 0 ? (xs.Min(), xs.Max()) : (-1.0, 0.0);
        if (xMax - xMin < 0.3) xMin = xMax - 0.3;
        var xPad = 0.04 * (xMax - xMin);
        var ys = curves.SelectMany(c => c.Lo.Concat(c.Hi)).Where(double.IsFinite).ToList();
        var (yMin, yMax) = ys.Count > 0 ? (ys.Min(), ys.Max()) : (0.0, 1.0);
        if (yMax - yMin < 1e-9) (yMin, yMax) = (yMin - 0.05, yMax + 0.05);
        var yPad = 0.06 * (yMax - yMin);
        plot.Axes.Bottom.TickGenerator = FigureKit.LogTicks(xMin - xPad, xMax + xPad);
        if (log) plot.Axes.Left.TickGenerator = FigureKit.LogTicks(yMin - yPad, yMax + yPad);
        plot.Axes.SetLimits(xMin - xPad, xMax + xPad, yMin - yPad, yMax + yPad);
        plot.XLabel("proportion of real data, num_real / (num_real + num_synthetic)", 13);
        plot.YLabel(MixRow.MetricLabel(family), 13);
        plot.Font.Set(FigureKit.Font);
        plot.Layout.Fixed(new PixelPadding(72, 16, 48, 12));
        FigureKit.Blit(canvas, plot, 0, TitleHeight, PanelWidth, PanelHeight);
        using (var legend = FigureKit.CurveLegend(reals.Select(n => ($"num_real = {MixSummary.Count(n)}", colours[n])), rows.Select(r => r.Seed).Distinct().Count()))
            FigureKit.Blit(canvas, legend, PanelWidth + 10, TitleHeight, LegendWidth - 10, Math.Min(PanelHeight, 60 + 24 * (reals.Count + 2)));
        FigureKit.Save(surface, path);
    }

    static double[] Log10(double[] values) => values.Select(Math.Log10).ToArray();

    /// <summary>
    /// Per num_real, per num_synthetic (proportion real falls as it grows): x = log10 proportion real, the
    /// mean and the 2.5–97.5th percentile of the metric over seeds.
    /// </summary>
    static List<Curve> Curves(IReadOnlyList<MixRow> rows, List<int> reals)
    {
        var curves = new List<Curve>();
        var byReal = rows.GroupBy(r => r.NumReal).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var real in reals)
        {
            var (x, mean, lo, hi) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            foreach (var point in byReal[real].GroupBy(r => r.NumSynthetic).OrderByDescending(g => g.Key))
            {
                var v = point.Select(r => r.TestMetric).Where(double.IsFinite).Order().ToArray();
                if (v.Length == 0) continue;
                x.Add(Math.Log10(point.First().ProportionReal));
                mean.Add(v.Average());
                lo.Add(FigureKit.Percentile(v, 2.5));
                hi.Add(FigureKit.Percentile(v, 97.5));
            }
            if (x.Count > 0) curves.Add(new Curve(real, [.. x], [.. mean], [.. lo], [.. hi]));
        }
        return curves;
    }
}
