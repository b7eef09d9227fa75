using System.Text;

namespace Collapse.Engine.Reports;

/// <summary>What adding synthetic data did at one num_real, over every num_synthetic &gt; 0 tested.</summary>
public enum MixVerdict
{
    /// <summary>Significantly lower metric at some count(s), higher at none.</summary>
    Helped,
    /// <summary>Significantly higher metric at some count(s), lower at none.</summary>
    Hurt,
    /// <summary>Significantly lower at some counts and higher at others.</summary>
    Mixed,
    /// <summary>No count differs significantly from no synthetic data.</summary>
    NoSignificantChange,
    /// <summary>Fewer than 2 seeds at every count: nothing can be told.</summary>
    Inconclusive,
    /// <summary>Only num_synthetic = 0 was run for this num_real.</summary>
    NoSyntheticTested,
    /// <summary>No num_synthetic = 0 rows: nothing to compare with.</summary>
    NoBaseline,
}

/// <summary>One num_real of a mix run: its verdict, the paired effects behind it and the sentence that states it.</summary>
/// <param name="Seeds">Seeds with num_synthetic = 0 (the baseline's), or of any row when there is no baseline.</param>
/// <param name="Baseline">Mean metric over seeds with num_synthetic = 0 (NaN without a baseline).</param>
/// <param name="Effects">Every num_synthetic &gt; 0, ascending, against the baseline (<see cref="MixEffects.Compute"/>).</param>
/// <param name="Sentence">Plain text, e.g. "num_real = 100: synthetic data helped at every count tested (from 32): …".</param>
public sealed record MixFinding(int NumReal, int Seeds, double Baseline, MixVerdict Verdict, IReadOnlyList<MixEffect> Effects, string Sentence);

/// <summary>A mix run described: per num_real findings, then whether the paper's pattern holds.</summary>
/// <param name="Title">The family and its fixed settings, e.g. "Gaussian, d = 5" or "KDE, moons, h = 0.1".</param>
/// <param name="MetricName">Short name of the metric for sentences ("test NLL", "test loss").</param>
/// <param name="PatternHolds">
/// Whether synthetic data helped at smaller num_real and hurt at larger ones, with no num_real where it
/// only hurt below one where it only helped; null when no num_real has a conclusive effect.
/// </param>
/// <param name="Overall">One line stating that finding from the data.</param>
public sealed record MixDescription(string Family, string Title, string MetricName, IReadOnlyList<MixFinding> Findings,
    bool? PatternHolds, string Overall);

/// <summary>
/// The generated <c>summary.md</c> of a mix run (docs/DESIGN.md, section D): per num_real, whether adding
/// synthetic data helped or hurt and from which count, with the numbers (by <see cref="MixEffects"/>'
/// paired rule), the overall finding against the paper's, and a table of the mean metric.
/// </summary>
public static class MixSummary
{
    public const string FileName = "summary.md";

    /// <summary>
    /// The findings for the rows of one family's <c>mix.csv</c>. <paramref name="header"/> (the file's)
    /// names the family columns the title draws on (d, dataset, bandwidth, preset); without it the title
    /// is the family alone.
    /// </summary>
    public static MixDescription Describe(IReadOnlyList<MixRow> rows, string? header = null, double z = 2.0)
    {
        var family = SingleFamily(rows);
        var metric = MetricName(family);
        var effects = MixEffects.Compute(rows, z).ToLookup(e => e.NumReal);
        var findings = new List<MixFinding>();
        foreach (var real in rows.GroupBy(r => r.NumReal).OrderBy(g => g.Key))
        {
            var baseline = real.Where(r => r.NumSynthetic == 0).GroupBy(r => r.Seed).Select(g => g.First().TestMetric).ToList();
            var list = effects[real.Key].OrderBy(e => e.NumSynthetic).ToList();
            var seeds = baseline.Count > 0 ? baseline.Count : real.Select(r => r.Seed).Distinct().Count();
            var mean = baseline.Count > 0 ? baseline.Average() : double.NaN;
            var verdict = Verdict(baseline.Count > 0, list);
            findings.Add(new MixFinding(real.Key, seeds, mean, verdict, list, Sentence(real.Key, mean, verdict, list, metric)));
        }
        var (holds, overall) = Overall(findings);
        return new MixDescription(family, Title(header, rows), metric, findings, holds, overall);
    }

    /// <summary>The whole <c>summary.md</c>; <paramref name="description"/>, when given, is a line about the run under the title.</summary>
    public static string Markdown(IReadOnlyList<MixRow> rows, string? header = null, string? description = null, double z = 2.0)
    {
        var text = new StringBuilder();
        if (rows.Count == 0)
        {
            text.Append("# Value of synthetic data\n\n");
            if (!string.IsNullOrWhiteSpace(description)) text.Append(description.Trim()).Append("\n\n");
            text.Append("No rows: nothing to summarize.\n");
            return text.ToString();
        }
        var d = Describe(rows, header, z);
        text.Append($"# Value of synthetic data: {d.Title}\n\n");
        if (!string.IsNullOrWhiteSpace(description)) text.Append(description.Trim()).Append("\n\n");
        text.Append($"Metric: {MixRow.MetricLabel(d.Family)} on real test data; lower is better. Each num_synthetic is compared ")
            .Append("with num_synthetic = 0 at the same num_real, paired by seed (mean difference ± standard error over seeds); ")
            .Append(FormattableString.Invariant($"a difference beyond {z:0.##} standard errors counts as helped (lower) or hurt (higher).\n\n"));
        text.Append("## Findings\n\n");
        foreach (var f in d.Findings) text.Append("- ").Append(f.Sentence).Append('\n');
        text.Append("\n**Overall:** ").Append(d.Overall).Append("\n\n");
        text.Append($"## Mean {d.MetricName} over seeds\n\n");
        text.Append(Table(rows, d));
        return text.ToString();
    }

    /// <summary>Writes <c>summary.md</c> into <paramref name="directory"/>; returns its path.</summary>
    public static string Write(string directory, IReadOnlyList<MixRow> rows, string? header = null, string? description = null)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        File.WriteAllText(path, Markdown(rows, header, description));
        return path;
    }

    /// <summary>The metric's short name for sentences: the family's label without its unit.</summary>
    public static string MetricName(string family)
    {
        var label = MixRow.MetricLabel(family);
        var paren = label.IndexOf(" (", StringComparison.Ordinal);
        return paren < 0 ? label : label[..paren];
    }

    /// <summary>
    /// The family and the settings a mix run holds fixed, from the file's family columns when they take
    /// one value: "Gaussian, d = 5", "KDE, moons, h = 0.1", "language model, preset tiny, 1,000 steps per fit".
    /// </summary>
    public static string Title(string? header, IReadOnlyList<MixRow> rows)
    {
        if (rows.Count == 0) return "no rows";
        var family = rows[0].Family;
        var columns = header?.Split(',') ?? [];
        var common = MixRow.CommonHeader.Split(',').Length;
        string? Only(string column)
        {
            var i = Array.IndexOf(columns, column) - common;
            if (i < 0) return null;
            var values = rows.Where(r => i < r.Extra.Count).Select(r => r.Extra[i]).Distinct().Take(2).ToList();
            return values.Count == 1 ? values[0] : null;
        }
        var parts = new List<string>
        {
            family switch { "gaussian" => "Gaussian", "kde" => "KDE", "lm" => "language model", "regression" => "linear regression", _ => family },
        };
        switch (family)
        {
            case "gaussian":
                if (Only("dim") is { } dim) parts.Add($"d = {dim}");
                break;
            case "kde":
                if (Only("dataset") is { } dataset) parts.Add(dataset);
                if (Only("bandwidth") is { } h) parts.Add($"h = {h}");
                break;
            case "lm":
                if (Only("preset") is { } preset) parts.Add($"preset {preset}");
                if (Only("steps") is { } steps && int.TryParse(steps, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k))
                    parts.Add($"{Count(k)} steps per fit");
                break;
        }
        return string.Join(", ", parts);
    }

    /// <summary>The one family of the rows; a file mixing families is not one run's.</summary>
    static string SingleFamily(IReadOnlyList<MixRow> rows)
    {
        var families = rows.Select(r => r.Family).Distinct().ToList();
        return families.Count switch
        {
            0 => throw new ArgumentException("no rows to describe", nameof(rows)),
            1 => families[0],
            _ => throw new ArgumentException($"rows of several families ({string.Join(", ", families)}): one mix.csv holds one family", nameof(rows)),
        };
    }

    static MixVerdict Verdict(bool hasBaseline, List<MixEffect> effects)
    {
        if (!hasBaseline) return MixVerdict.NoBaseline;
        if (effects.Count == 0) return MixVerdict.NoSyntheticTested;
        if (effects.All(e => e.Effect == Effect.Inconclusive)) return MixVerdict.Inconclusive;
        var helped = effects.Any(e => e.Effect == Effect.Helped);
        var hurt = effects.Any(e => e.Effect == Effect.Hurt);
        return helped && hurt ? MixVerdict.Mixed : helped ? MixVerdict.Helped : hurt ? MixVerdict.Hurt : MixVerdict.NoSignificantChange;
    }

    static string Sentence(int numReal, double baseline, MixVerdict verdict, List<MixEffect> effects, string metric)
    {
        var head = $"num_real = {Count(numReal)}: ";
        if (verdict == MixVerdict.NoBaseline) return head + "no rows with num_synthetic = 0, so nothing to compare with";
        if (verdict == MixVerdict.NoSyntheticTested) return head + $"only num_synthetic = 0 was run ({metric} {Value(baseline, 2)})";
        var counts = effects.Select(e => e.NumSynthetic).ToList();
        var seeds = effects.Max(e => e.Seeds);
        var best = effects.MinBy(e => e.Mean)!;
        var worst = effects.MaxBy(e => e.Mean)!;
        var decimals = Decimals(effects);
        string Change(MixEffect e) => $"{Value(e.Baseline, decimals)} → {Value(e.Mean, decimals)} at {Count(e.NumSynthetic)} synthetic";
        string Difference(MixEffect e) => $"{Signed(e.Difference, decimals)} ± {Value(e.StandardError, decimals)}";
        var seedText = seeds == 1 ? "1 seed" : $"{seeds} seeds";
        switch (verdict)
        {
            case MixVerdict.Inconclusive:
                return head + $"inconclusive: {seedText} ({metric} {Value(best.Baseline, decimals)} with none, {Value(best.Mean, decimals)} at {Count(best.NumSynthetic)} synthetic)";
            case MixVerdict.NoSignificantChange:
                var largest = effects.Where(e => double.IsFinite(e.Difference)).MaxBy(e => Math.Abs(e.Difference)) ?? effects[0];
                return head + $"no significant change at any count tested ({Range(counts)}): {metric} {Value(largest.Baseline, decimals)} with none; "
                    + $"largest difference {Difference(largest)} at {Count(largest.NumSynthetic)} synthetic ({seedText})";
            case MixVerdict.Helped:
                return head + $"synthetic data helped {Where(Counts(effects, Effect.Helped), counts)}: {metric} {Change(best)} ({Difference(best)}, {seedText})";
            case MixVerdict.Hurt:
                return head + $"synthetic data hurt {Where(Counts(effects, Effect.Hurt), counts)}: {metric} {Change(worst)} ({Difference(worst)}, {seedText})";
            default:
                return head + $"synthetic data helped {Where(Counts(effects, Effect.Helped), counts)}, hurt {Where(Counts(effects, Effect.Hurt), counts)}: "
                    + $"{metric} {Change(best)} ({Difference(best)}) at best, {Value(worst.Mean, decimals)} at {Count(worst.NumSynthetic)} synthetic ({Difference(worst)}) at worst, {seedText}";
        }
    }

    static List<int> Counts(List<MixEffect> effects, Effect effect) => effects.Where(e => e.Effect == effect).Select(e => e.NumSynthetic).ToList();

    /// <summary>
    /// Where in the tested counts <paramref name="some"/> lie: "at every count tested (from 32)", "from 3,162 on",
    /// "up to 1,000", "from 100 to 1,000", or "at 32, 316 and 3,162".
    /// </summary>
    static string Where(List<int> some, List<int> all)
    {
        if (some.Count == all.Count) return $"at every count tested (from {Count(all[0])})";
        var first = all.IndexOf(some[0]);
        var contiguous = all.Skip(first).Take(some.Count).SequenceEqual(some);
        if (some.Count == 1 && first == all.Count - 1) return $"only at the largest count, {Count(some[0])}";
        if (contiguous && first + some.Count == all.Count) return $"from {Count(some[0])} on";
        if (contiguous && first == 0) return some.Count == 1 ? $"at {Count(some[0])} only" : $"up to {Count(some[^1])}";
        if (contiguous && some.Count > 1) return $"from {Count(some[0])} to {Count(some[^1])}";
        return "at " + List(some.Select(Count).ToList());
    }

    static string Range(List<int> counts) => counts.Count == 1 ? Count(counts[0]) : $"{Count(counts[0])} to {Count(counts[^1])}";

    static string List(List<string> items) => items.Count == 1 ? items[0] : string.Join(", ", items[..^1]) + " and " + items[^1];

    /// <summary>
    /// The paper's pattern (synthetic data helps with little real data, hurts with plenty), judged from the
    /// num_real values where it helped and where it hurt at some count.
    /// </summary>
    static (bool? Holds, string Line) Overall(List<MixFinding> findings)
    {
        var helped = findings.Where(f => f.Verdict is MixVerdict.Helped or MixVerdict.Mixed).Select(f => f.NumReal).ToList();
        var hurt = findings.Where(f => f.Verdict is MixVerdict.Hurt or MixVerdict.Mixed).Select(f => f.NumReal).ToList();
        var onlyHelped = findings.Where(f => f.Verdict == MixVerdict.Helped).Select(f => f.NumReal).ToList();
        var onlyHurt = findings.Where(f => f.Verdict == MixVerdict.Hurt).Select(f => f.NumReal).ToList();
        string Reals(List<int> reals) => reals.Count == 1 ? $"num_real = {Count(reals[0])}" : "num_real " + List(reals.Select(Count).ToList());
        var none = findings.Where(f => f.Verdict == MixVerdict.NoSignificantChange).Select(f => f.NumReal).ToList();
        var noneText = none.Count == 0 ? "" : $" (no significant change at {Reals(none)})";
        if (helped.Count == 0 && hurt.Count == 0)
        {
            if (findings.All(f => f.Verdict is MixVerdict.Inconclusive or MixVerdict.NoBaseline or MixVerdict.NoSyntheticTested))
                return (null, "the paper's pattern cannot be judged: no num_real has both a baseline and at least 2 seeds at a synthetic count.");
            return (false, "the paper's pattern does not show: synthetic data made no significant difference at any num_real tested.");
        }
        if (hurt.Count == 0)
            return (false, $"the paper's pattern does not show: synthetic data helped at {Reals(helped)} and hurt at no num_real tested{noneText}.");
        if (helped.Count == 0)
            return (false, $"the paper's pattern does not show: synthetic data hurt at {Reals(hurt)} and helped at no num_real tested{noneText}.");
        var reversed = onlyHurt.Any(k => onlyHelped.Any(h => h > k));
        if (helped.Min() < hurt.Max() && !reversed)
            return (true, $"the paper's pattern holds: synthetic data helped with less real data ({Reals(helped)}) and hurt with more ({Reals(hurt)}){noneText}.");
        return (false, $"the paper's pattern does not hold: synthetic data hurt at {Reals(hurt)} but helped at {Reals(helped)}, not only below where it hurt.");
    }

    static string Table(IReadOnlyList<MixRow> rows, MixDescription d)
    {
        var reals = rows.Select(r => r.NumReal).Distinct().Order().ToList();
        var synthetic = rows.Select(r => r.NumSynthetic).Distinct().Order().ToList();
        var means = rows.GroupBy(r => (r.NumReal, r.NumSynthetic))
            .ToDictionary(g => g.Key, g => g.GroupBy(r => r.Seed).Select(s => s.First().TestMetric).Average());
        var effects = d.Findings.SelectMany(f => f.Effects).ToDictionary(e => (e.NumReal, e.NumSynthetic), e => e.Effect);
        var finite = means.Values.Where(double.IsFinite).Select(Math.Abs).Order().ToList();
        var typical = finite.Count > 0 ? finite[finite.Count / 2] : 1;
        var decimals = Math.Clamp(3 - (typical > 0 ? (int)Math.Floor(Math.Log10(typical)) : 0), 0, 6);
        var text = new StringBuilder();
        text.Append("| num_real \\ num_synthetic | ").Append(string.Join(" | ", synthetic.Select(Count))).Append(" |\n");
        text.Append("|---:|").Append(string.Concat(synthetic.Select(_ => "---:|"))).Append('\n');
        foreach (var real in reals)
        {
            text.Append("| ").Append(Count(real)).Append(" |");
            foreach (var s in synthetic)
            {
                var cell = !means.TryGetValue((real, s), out var m) ? "" : Value(m, decimals) + (effects.GetValueOrDefault((real, s), Effect.Inconclusive) switch
                {
                    Effect.Helped => " ↓",
                    Effect.Hurt => " ↑",
                    _ => "",
                });
                text.Append(' ').Append(cell).Append(" |");
            }
            text.Append('\n');
        }
        text.Append("\n↓ significantly lower than with no synthetic data at the same num_real (helped); ↑ significantly higher (hurt).\n");
        return text.ToString();
    }

    /// <summary>Enough decimals that the standard errors show a digit (at least 2, at most 6).</summary>
    static int Decimals(List<MixEffect> effects)
    {
        var se = effects.Select(e => e.StandardError).Where(s => double.IsFinite(s) && s > 0).DefaultIfEmpty(0.01).Min();
        return Math.Clamp(-(int)Math.Floor(Math.Log10(se)), 2, 6);
    }

    /// <summary>A count with thousands separators: 31,623.</summary>
    public static string Count(int count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// How a language-model mix run trained, from its manifest's configuration: which regime and which
    /// budget, and which of them is the paper's protocol (null for the other families).
    /// </summary>
    public static string? LmProtocol(System.Text.Json.Nodes.JsonNode? configuration)
    {
        if (configuration?["family"]?.ToString() != "lm") return null;
        var regime = configuration["regime"]?.ToString() ?? "scratch";
        var text = regime == "finetune"
            ? "every fit fine-tunes one base pretrained on Shakespeare's words (the paper's protocol)"
            : "every fit trains from random weights (the paper fine-tunes a pretrained model: this is an extension)";
        return text + (configuration["steps"]?.ToString() is { Length: > 0 } steps
            ? $"; {steps} steps per fit whatever its size (an extension: the paper trains one epoch over num_real + num_synthetic)"
            : "; one epoch over num_real + num_synthetic per fit (the paper's budget)");
    }

    static string Value(double v, int decimals) =>
        double.IsNaN(v) ? "nan" : double.IsInfinity(v) ? (v > 0 ? "inf" : "−inf")
        : v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace('-', '−');

    static string Signed(double v, int decimals) => v > 0 ? "+" + Value(v, decimals) : Value(v, decimals);
}
