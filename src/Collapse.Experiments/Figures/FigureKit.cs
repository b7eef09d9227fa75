using System.Text;

namespace Collapse.Experiments.Figures;

/// <summary>What every figure shares: fonts, titles, log-axis ticks, panel compositing, summaries over seeds.</summary>
public static class FigureKit
{
    public static readonly double Ln10 = Math.Log(10);

    /// <summary>Renders a plot on its own surface and copies it in: Plot.Render on a shared canvas clears all of it.</summary>
    public static void Blit(SKCanvas canvas, Plot plot, float left, float top, int width, int height)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        plot.Render(surface);
        using var image = surface.Snapshot();
        canvas.DrawImage(image, left, top);
    }

    /// <summary>ScottPlot's detected default can be a serif face; prefer a common sans one when installed.</summary>
    public static readonly string Font =
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Open Sans" }
            .Intersect(SKFontManager.Default.GetFontFamilies()).FirstOrDefault() ?? Fonts.Default;

    /// <summary>Centred text at a baseline, e.g. a column heading shared by a row of panels.</summary>
    public static void DrawLabel(SKCanvas canvas, string text, float centre, float baseline, float size)
    {
        using var typeface = SKTypeface.FromFamilyName(Font);
        using var font = new SKFont(typeface, size);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(text, centre, baseline, SKTextAlign.Center, font, paint);
    }

    /// <summary>A blank white figure of this size with its <see cref="DrawTitle"/> title: how every figure starts.</summary>
    public static SKSurface Page(int width, int height, string title, float centre, float maxWidth = float.PositiveInfinity)
    {
        var surface = SKSurface.Create(new SKImageInfo(width, height));
        surface.Canvas.Clear(SKColors.White);
        DrawTitle(surface.Canvas, title, centre, maxWidth);
        return surface;
    }

    /// <summary>The figure's bold title; a title wider than <paramref name="maxWidth"/> is set smaller to fit (down to 13 px).</summary>
    public static void DrawTitle(SKCanvas canvas, string title, float centre, float maxWidth = float.PositiveInfinity)
    {
        using var typeface = SKTypeface.FromFamilyName(Font, SKFontStyle.Bold);
        using var font = new SKFont(typeface, 21);
        if (font.MeasureText(title) is var measured && measured > maxWidth) font.Size = Math.Max(13, 21 * maxWidth / measured);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, centre, 32, SKTextAlign.Center, font, paint);
    }


    /// <summary>
    /// Ticks for an axis holding log10 values, labelled as the values. Several decades: majors at 10^k
    /// (every 1, 2, 5, 10, … decades) with 2..9 minors when one decade apart; under 3 decades the decade
    /// ticks are too sparse, so mantissas 1, 2, 5 (or nice linear steps for a narrow range) are labelled.
    /// </summary>
    public static ScottPlot.TickGenerators.NumericManual LogTicks(double lo, double hi)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var span = hi - lo;
        if (span >= 3)
        {
            var step = NiceStep(span / 6);
            var unit = step == 1 ? 1 : step <= 10 ? 1 : NiceStep(step / 5.0);
            for (var k = Math.Ceiling(lo / unit) * unit; k <= hi; k += unit)
                if (k % step == 0) ticks.AddMajor(k, "10" + Superscript((long)k));
                else ticks.AddMinor(k);
            if (step == 1)
                for (var k = Math.Floor(lo); k <= hi; k++)
                    for (var m = 2; m <= 9; m++)
                        if (k + Math.Log10(m) is var p && p >= lo && p <= hi) ticks.AddMinor(p);
        }
        else if (span >= 0.4)
        {
            for (var k = Math.Floor(lo); k <= hi; k++)
                for (var m = 1; m <= 9; m++)
                {
                    var p = k + Math.Log10(m);
                    if (p < lo || p > hi) continue;
                    if (m is 1 or 2 or 5 || span < 0.8 && m is 3 or 4 or 6 or 8) ticks.AddMajor(p, Format(m * Math.Pow(10, k)));
                    else ticks.AddMinor(p);
                }
        }
        else
        {
            var (a, b) = (Math.Pow(10, lo), Math.Pow(10, hi));
            var raw = (b - a) / 7;
            var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            var unit = new[] { 1, 2, 5, 10 }.Select(s => s * mag).First(s => s >= raw);
            for (var v = Math.Ceiling(a / unit) * unit; v <= b; v += unit)
                ticks.AddMajor(Math.Log10(v), Format(v));
        }
        return ticks;
    }

    /// <summary>1, 2, 5, 10, 20, 50, … : the smallest at least <paramref name="raw"/> (and at least 1).</summary>
    public static long NiceStep(double raw)
    {
        for (long mag = 1; ; mag *= 10)
            foreach (var s in new[] { 1, 2, 5 })
                if (s * mag >= raw) return s * mag;
    }

    public static string Superscript(long k)
    {
        const string digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var sb = new StringBuilder();
        if (k < 0) sb.Append('⁻');
        foreach (var ch in Math.Abs(k).ToString(CultureInfo.InvariantCulture)) sb.Append(digits[ch - '0']);
        return sb.ToString();
    }

    public static string Format(double v)
    {
        if (v >= 1e-3 && v < 1e5) return v.ToString("G4", CultureInfo.InvariantCulture);
        var k = (long)Math.Floor(Math.Log10(v));
        var m = Math.Round(v / Math.Pow(10, k), 3);
        return (m == 1 ? "" : m.ToString("G4", CultureInfo.InvariantCulture) + "×") + "10" + Superscript(k);
    }


    public static double LogSumExp(double[] v)
    {
        var max = v.Max();
        if (double.IsPositiveInfinity(max)) return max;
        return max + Math.Log(v.Sum(z => Math.Exp(z - max)));
    }

    /// <summary>Percentile of sorted values with linear interpolation (numpy's default).</summary>
    public static double Percentile(double[] sorted, double p)
    {
        var pos = p / 100 * (sorted.Length - 1);
        var i = (int)Math.Floor(pos);
        if (i >= sorted.Length - 1) return sorted[^1];
        var f = pos - i;
        return f == 0 ? sorted[i] : sorted[i] + f * (sorted[i + 1] - sorted[i]);
    }

    /// <summary>
    /// One Category10 colour per key, in the order given: built once over a whole run's keys (every n, say),
    /// so a key keeps its colour in every figure of the run.
    /// </summary>
    public static Dictionary<T, Color> Palette<T>(IEnumerable<T> keys) where T : notnull
    {
        var palette = new ScottPlot.Palettes.Category10();
        return keys.Select((key, i) => (key, palette.GetColor(i))).ToDictionary(p => p.key, p => p.Item2);
    }

    /// <summary>The legend entry for the figures' 2.5–97.5th percentile bands over seeds.</summary>
    public static LegendItem BandEntry() =>
        new() { LabelText = "95% band over seeds", FillColor = Colors.DimGray.WithAlpha(0.25), LineWidth = 0 };

    /// <summary>The legend entry for an exact expectation, drawn dashed and darker than its curve's colour.</summary>
    public static LegendItem ExactEntry(string label) =>
        new() { LabelText = label, LineColor = Colors.DimGray.Darken(0.35), LineWidth = 2, LinePattern = LinePattern.Dashed };

    /// <summary>Writes a finished figure as PNG.</summary>
    public static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }

    /// <summary>
    /// A legend-only plot for the strip beside the panels (so no legend covers data): one entry per
    /// curve (label, colour), then what the lines and bands are.
    /// </summary>
    /// <param name="extra">Further entries after the curves (a figure without bands passes its own instead of the band's).</param>
    public static Plot CurveLegend(IEnumerable<(string Label, Color Colour)> curves, int seeds, IEnumerable<LegendItem>? extra = null)
    {
        var items = curves.Select(c => new LegendItem { LabelText = c.Label, LineColor = c.Colour, LineWidth = 3, FillColor = c.Colour.WithAlpha(0.2) }).ToList();
        items.Add(new LegendItem { LabelText = $"mean over {seeds} seeds", LineColor = Colors.DimGray, LineWidth = 2 });
        items.AddRange(extra ?? [BandEntry()]);
        var plot = new Plot();
        plot.Layout.Frameless();
        plot.HideGrid();
        var legend = plot.ShowLegend(items, Alignment.UpperLeft);
        legend.FontSize = 13;
        legend.FontName = Font;
        legend.OutlineColor = Colors.LightGray;
        legend.ShadowFillStyle.IsVisible = false;
        return plot;
    }
}
