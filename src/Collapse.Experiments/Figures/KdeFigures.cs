using Collapse.Engine.Data;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Kde;

namespace Collapse.Experiments.Figures;

/// <summary>
/// The paper's KDE figures, drawn from <c>kde.csv</c>: one PNG per bandwidth, rows = datasets,
/// columns = settings, test NLL against iteration with one line per n (mean over seeds, 95% band).
/// And, from <c>kde-samples.csv</c>, one PNG per dataset and bandwidth of the real points beside
/// the model's samples at a few iterations of each setting, so a reader sees collapse happen.
/// </summary>
public static class KdeFigures
{
    const int PanelWidth = 360, PanelHeight = 270, TitleHeight = 46, HeadingHeight = 30, LegendWidth = 230;

    /// <summary>One point of <c>kde-samples.csv</c>.</summary>
    public sealed record SamplePoint(ToyDataset Dataset, Bandwidth Bandwidth, string Setting, int N, int Iteration, double X, double Y, double? Z);

    public static List<SamplePoint> ReadSamples(string path) => TidyCsv.ReadAll(path, KdeSweep.SamplesHeader, (line, number) =>
    {
        var f = line.Split(',');
        if (f.Length != 10) throw new FormatException($"line {number}: expected 10 columns ({KdeSweep.SamplesHeader}), found {f.Length}");
        if (!Bandwidth.TryParse(f[1], out var h)) throw new FormatException($"line {number}: bandwidth '{f[1]}' is not valid");
        return new SamplePoint(ToyDatasets.Parse(f[0]), h, f[2], int.Parse(f[3], CultureInfo.InvariantCulture),
            int.Parse(f[5], CultureInfo.InvariantCulture), CsvNumber.Parse(f[7]), CsvNumber.Parse(f[8]),
            f[9].Length == 0 ? null : CsvNumber.Parse(f[9]));
    });

    /// <summary>Writes <c>kde-nll-h&lt;h&gt;.png</c> per bandwidth and <c>kde-samples-&lt;dataset&gt;-h&lt;h&gt;.png</c>; returns the paths.</summary>
    public static IReadOnlyList<string> DrawAll(IReadOnlyList<KdeRow> rows, IReadOnlyList<SamplePoint> samples, string figuresDirectory)
    {
        Directory.CreateDirectory(figuresDirectory);
        var colours = FigureKit.Palette(rows.Select(r => r.N).Distinct().Order());
        var paths = new List<string>();
        foreach (var byBandwidth in rows.GroupBy(r => r.Bandwidth).OrderBy(g => g.Key.Rule != "fixed").ThenBy(g => g.Key.Fixed))
        {
            var path = Path.Combine(figuresDirectory, $"kde-nll-h{byBandwidth.Key}.png");
            DrawNll(byBandwidth.Key, byBandwidth.ToList(), colours, path);
            paths.Add(path);
        }
        // A sweep over bandwidths (three fixed ones or more) also gets the NLL against h.
        if (rows.Where(r => r.Bandwidth.Rule == "fixed").Select(r => r.Bandwidth.Fixed).Distinct().Count() >= 3)
        {
            var path = Path.Combine(figuresDirectory, BandwidthFigure);
            DrawBandwidths(rows, colours, path);
            paths.Add(path);
        }
        foreach (var group in samples.GroupBy(s => (s.Dataset, s.Bandwidth)))
        {
            var path = Path.Combine(figuresDirectory, $"kde-samples-{group.Key.Dataset.Name()}-h{group.Key.Bandwidth}.png");
            DrawSamples(group.Key.Dataset, group.Key.Bandwidth, group.ToList(), path);
            paths.Add(path);
        }
        return paths;
    }

    sealed record Curve(int N, double[] X, double[] Mean, double[] Lo, double[] Hi);

    /// <summary>The bandwidth study's figure: test NLL against h.</summary>
    public const string BandwidthFigure = "kde-nll-vs-bandwidth.png";

    /// <summary>
    /// Rows = datasets, columns = settings; x = log10 h over the fixed bandwidths, y = the mean test
    /// NLL over seeds at the last iteration (solid) and at iteration 1, the real data's fit (dashed),
    /// one colour per n, the best h of each curve marked: where the best bandwidth moves as a chain goes on.
    /// </summary>
    static void DrawBandwidths(IReadOnlyList<KdeRow> all, Dictionary<int, Color> colours, string path)
    {
        var rows = all.Where(r => r.Bandwidth.Rule == "fixed").ToList();
        var last = rows.Max(r => r.Iteration);
        var datasets = rows.Select(r => r.Dataset).Distinct().Order().ToList();
        var settings = rows.Select(r => r.Setting).Distinct().Order().ToList();
        var width = LegendWidth + settings.Count * PanelWidth;
        var height = TitleHeight + HeadingHeight + datasets.Count * PanelHeight;
        using var surface = FigureKit.Page(width, height, $"KDE test NLL against the bandwidth h: iteration {last} (solid) and 1 (dashed)", settings.Count * PanelWidth / 2f);
        var canvas = surface.Canvas;
        for (var j = 0; j < settings.Count; j++)
            FigureKit.DrawLabel(canvas, settings[j].Name(), (j + 0.5f) * PanelWidth + 36, TitleHeight + 20, 16);
        (double[] X, double[] Y) Line(IEnumerable<KdeRow> cell, int iteration)
        {
            var points = cell.Where(r => r.Iteration == iteration).GroupBy(r => r.Bandwidth.Fixed).OrderBy(g => g.Key)
                .Select(g => (X: Math.Log10(g.Key), Y: g.Select(r => r.NllTest).Average())).Where(p => double.IsFinite(p.Y)).ToList();
            return ([.. points.Select(p => p.X)], [.. points.Select(p => p.Y)]);
        }
        for (var i = 0; i < datasets.Count; i++)
        {
            var lines = settings.Select(s => rows.Where(r => r.Dataset == datasets[i] && r.Setting == s).GroupBy(r => r.N).OrderBy(g => g.Key)
                .Select(g => (N: g.Key, Last: Line(g, last), First: Line(g, 1))).ToList()).ToList();
            // Shared y range along a row around the valleys: each curve's values within one grid step of its
            // minimum (a small h's NLL runs to 10⁴ and would flatten the rest; those lines leave the top).
            static IEnumerable<double> Valley(double[] y)
            {
                if (y.Length == 0) yield break;
                var best = Array.IndexOf(y, y.Min());
                for (var k = Math.Max(0, best - 1); k <= Math.Min(y.Length - 1, best + 1); k++) yield return y[k];
            }
            var ys = lines.SelectMany(p => p.SelectMany(l => Valley(l.Last.Y).Concat(Valley(l.First.Y)))).ToList();
            if (ys.Count == 0) continue;
            var (yMin, yMax) = (ys.Min(), ys.Max());
            if (yMax - yMin < 1e-9) (yMin, yMax) = (yMin - 0.5, yMax + 0.5);
            var pad = 0.04 * (yMax - yMin);
            var xs = lines.SelectMany(p => p.SelectMany(l => l.Last.X)).ToList();
            for (var j = 0; j < settings.Count; j++)
            {
                using var plot = new Plot();
                foreach (var (n, lastLine, firstLine) in lines[j])
                {
                    var dashed = plot.Add.ScatterLine(firstLine.X, firstLine.Y, colours[n]);
                    dashed.LineWidth = 1.5f;
                    dashed.LinePattern = LinePattern.Dashed;
                    plot.Add.ScatterLine(lastLine.X, lastLine.Y, colours[n]).LineWidth = 2;
                    if (lastLine.Y.Length > 0)
                    {
                        var best = Array.IndexOf(lastLine.Y, lastLine.Y.Min());
                        var marker = plot.Add.Marker(lastLine.X[best], lastLine.Y[best], MarkerShape.FilledCircle, 9, colours[n]);
                        marker.LegendText = "";
                    }
                }
                if (j == 0) plot.YLabel($"{datasets[i].Name()}: test NLL", 13);
                if (i == datasets.Count - 1) plot.XLabel("bandwidth h (log10)", 13);
                if (xs.Count > 0) plot.Axes.SetLimits(xs.Min() - 0.2, xs.Max() + 0.2, yMin - pad, yMax + pad);
                plot.Font.Set(FigureKit.Font);
                plot.Layout.Fixed(new PixelPadding(72, 10, 44, 12));
                FigureKit.Blit(canvas, plot, j * PanelWidth, TitleHeight + HeadingHeight + i * PanelHeight, PanelWidth, PanelHeight);
            }
        }
        LegendItem[] extra =
        [
            new() { LabelText = $"iteration {last}", LineColor = Colors.DimGray, LineWidth = 2 },
            new() { LabelText = "iteration 1 (real data)", LineColor = Colors.DimGray, LineWidth = 1.5f, LinePattern = LinePattern.Dashed },
            new() { LabelText = $"best h at iteration {last}", MarkerShape = MarkerShape.FilledCircle, MarkerSize = 9, MarkerColor = Colors.DimGray, LineWidth = 0 },
        ];
        using (var legend = FigureKit.CurveLegend(rows.Select(r => r.N).Distinct().Order().Select(n => ($"n = {n}", colours[n])), rows.Select(r => r.Seed).Distinct().Count(), extra))
            FigureKit.Blit(canvas, legend, settings.Count * PanelWidth + 10, TitleHeight + HeadingHeight, LegendWidth - 10, Math.Min(300, height - TitleHeight - 20));
        FigureKit.Save(surface, path);
    }

    static void DrawNll(Bandwidth bandwidth, List<KdeRow> rows, Dictionary<int, Color> colours, string path)
    {
        var datasets = rows.Select(r => r.Dataset).Distinct().Order().ToList();
        var settings = rows.Select(r => r.Setting).Distinct().Order().ToList();
        // A log axis needs every value positive; a KDE's NLL can be negative (density above 1), then linear.
        var log = rows.All(r => r.NllTest > 0);
        var xMax = Math.Max(2, rows.Max(r => r.Iteration));
        var width = LegendWidth + settings.Count * PanelWidth;
        var height = TitleHeight + HeadingHeight + datasets.Count * PanelHeight;
        using var surface = FigureKit.Page(width, height, $"KDE test NLL, h = {bandwidth}" + (log ? "" : " (linear axis: some NLL ≤ 0)"), settings.Count * PanelWidth / 2f);
        var canvas = surface.Canvas;
        for (var j = 0; j < settings.Count; j++)
            FigureKit.DrawLabel(canvas, settings[j].Name(), (j + 0.5f) * PanelWidth + 36, TitleHeight + 20, 16);
        for (var i = 0; i < datasets.Count; i++)
        {
            var panels = settings.Select(s => Curves(rows.Where(r => r.Dataset == datasets[i] && r.Setting == s), log)).ToList();
            // Shared y range along a row (one dataset), so settings compare at a glance.
            var ys = panels.SelectMany(p => p.SelectMany(c => c.Lo.Concat(c.Hi))).Where(double.IsFinite).ToList();
            var (yMin, yMax) = ys.Count > 0 ? (ys.Min(), ys.Max()) : (0.0, 1.0);
            if (yMax - yMin < 1e-9) (yMin, yMax) = (yMin - 0.5, yMax + 0.5);
            var pad = 0.04 * (yMax - yMin);
            for (var j = 0; j < settings.Count; j++)
            {
                using var plot = new Plot();
                foreach (var c in panels[j])
                {
                    var band = plot.Add.FillY(c.X, c.Lo, c.Hi);
                    band.FillColor = colours[c.N].WithAlpha(0.2);
                    band.LineWidth = 0;
                }
                foreach (var c in panels[j]) plot.Add.ScatterLine(c.X, c.Mean, colours[c.N]).LineWidth = 2;
                if (j == 0) plot.YLabel($"{datasets[i].Name()}: test NLL", 13);
                if (i == datasets.Count - 1) plot.XLabel("model-fitting iteration", 13);
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
                if (log) plot.Axes.Left.TickGenerator = FigureKit.LogTicks(yMin - pad, yMax + pad);
                plot.Axes.SetLimits(0.5, xMax + 0.5, yMin - pad, yMax + pad);
                plot.Font.Set(FigureKit.Font);
                plot.Layout.Fixed(new PixelPadding(72, 10, 44, 12));
                FigureKit.Blit(canvas, plot, j * PanelWidth, TitleHeight + HeadingHeight + i * PanelHeight, PanelWidth, PanelHeight);
            }
        }
        using (var legend = FigureKit.CurveLegend(rows.Select(r => r.N).Distinct().Order().Select(n => ($"n = {n}", colours[n])), rows.Select(r => r.Seed).Distinct().Count()))
            FigureKit.Blit(canvas, legend, settings.Count * PanelWidth + 10, TitleHeight + HeadingHeight, LegendWidth - 10, Math.Min(300, height - TitleHeight - 20));
        FigureKit.Save(surface, path);
    }

    /// <summary>Mean and 2.5–97.5th percentile over seeds per iteration (in log10 on a log axis, the mean from exp-space).</summary>
    static List<Curve> Curves(IEnumerable<KdeRow> rows, bool log)
    {
        var curves = new List<Curve>();
        foreach (var cell in rows.GroupBy(r => r.N).OrderBy(g => g.Key))
        {
            var (x, mean, lo, hi) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
            foreach (var it in cell.GroupBy(r => r.Iteration).OrderBy(g => g.Key))
            {
                var v = it.Select(r => r.NllTest).Where(double.IsFinite).Order().ToArray();
                if (v.Length == 0) continue;
                var f = (double z) => log ? Math.Log10(z) : z;
                x.Add(it.Key);
                mean.Add(f(v.Average()));
                lo.Add(f(FigureKit.Percentile(v, 2.5)));
                hi.Add(f(FigureKit.Percentile(v, 97.5)));
            }
            if (x.Count > 0) curves.Add(new Curve(cell.Key, [.. x], [.. mean], [.. lo], [.. hi]));
        }
        return curves;
    }

    /// <summary>
    /// Rows = settings, columns = the real points then the samples at each iteration recorded; one
    /// axis range for every panel (the real points' range, widened to hold the samples), so spread
    /// and drift compare across panels. The swiss roll is shown in its rolled plane (x, z).
    /// </summary>
    static void DrawSamples(ToyDataset dataset, Bandwidth bandwidth, List<SamplePoint> points, string path)
    {
        var real = points.Where(p => p.Setting == "real").ToList();
        var settings = points.Select(p => p.Setting).Where(s => s != "real").Distinct()
            .OrderBy(s => Settings.TryParse(s, out var v) ? (int)v : 99).ToList();
        var iterations = points.Where(p => p.Setting != "real").Select(p => p.Iteration).Distinct().Order().ToList();
        var swiss = dataset == ToyDataset.SwissRoll;
        double Horizontal(SamplePoint p) => p.X;
        double Vertical(SamplePoint p) => swiss ? p.Z ?? 0 : p.Y;
        var all = points.Where(p => double.IsFinite(p.X) && double.IsFinite(Vertical(p))).ToList();
        var (xMin, xMax, yMin, yMax) = (all.Min(Horizontal), all.Max(Horizontal), all.Min(Vertical), all.Max(Vertical));
        var (padX, padY) = (0.05 * (xMax - xMin + 1e-9), 0.05 * (yMax - yMin + 1e-9));
        const int cell = 260;
        var width = cell * (1 + iterations.Count);
        var height = TitleHeight + cell * Math.Max(1, settings.Count);
        var n = points.First().N;
        using var surface = FigureKit.Page(width, height, $"{dataset.Name()}, h = {bandwidth}, n = {n}, seed 0{(swiss ? " (x, z plane)" : "")}", width / 2f);
        var canvas = surface.Canvas;
        for (var i = 0; i < settings.Count; i++)
            for (var j = 0; j <= iterations.Count; j++)
            {
                // The real points head every row, so each row reads left to right from the truth.
                var shown = j == 0 ? real : points.Where(p => p.Setting == settings[i] && p.Iteration == iterations[j - 1]).ToList();
                using var plot = new Plot();
                var scatter = plot.Add.ScatterPoints(shown.Select(Horizontal).ToArray(), shown.Select(Vertical).ToArray(),
                    j == 0 ? Colors.Black : new ScottPlot.Palettes.Category10().GetColor(i));
                scatter.MarkerSize = 3;
                plot.Title(j == 0 ? "real data" : $"{settings[i]}, t = {iterations[j - 1]}", 12);
                plot.Axes.SetLimits(xMin - padX, xMax + padX, yMin - padY, yMax + padY);
                plot.Font.Set(FigureKit.Font);
                plot.Layout.Fixed(new PixelPadding(40, 8, 26, 38));
                FigureKit.Blit(canvas, plot, j * cell, TitleHeight + i * cell, cell, cell);
            }
        FigureKit.Save(surface, path);
    }
}
