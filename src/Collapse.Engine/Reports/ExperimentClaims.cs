namespace Collapse.Engine.Reports;

/// <summary>
/// The paper's claims for each chain experiment, computed from its CSV rows with <see cref="ClaimRules"/>:
/// Replace worsens, Accumulate stays bounded, Accumulate-Subsample lies between them and plateaus,
/// and (Gaussian) the measured Replace curves against exact theory.
/// </summary>
public static class ExperimentClaims
{
    /// <summary>Gaussian cells are aggregated where exact theory expects Replace to keep at most this share of its first value by the last iteration.</summary>
    public const double GaussianVisibleShare = 0.25;

    /// <summary>Trace-ratio theory points are compared only where t·ψ'((n−1)/2), the variance of log of one direction's variance after t Replace steps, is at most this.</summary>
    public const double HeavyTail = 1.0;

    public static IReadOnlyList<Claim> Gaussian(IReadOnlyList<GaussianRow> rows, ClaimThresholds? thresholds = null)
    {
        var t = thresholds ?? ClaimThresholds.Default;
        if (rows.Count == 0) return [];
        var last = rows.Max(r => r.Iteration);
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        var grid = rows.Select(r => (r.Dim, r.N)).Distinct().OrderBy(c => c.Dim).ThenBy(c => c.N).ToList();
        var bySetting = rows.GroupBy(r => (r.Setting, r.Dim, r.N)).ToDictionary(g => g.Key, g => g.ToList());
        Curve? CurveOf(Setting s, int d, int n, Func<GaussianRow, double> metric) =>
            bySetting.TryGetValue((s, d, n), out var cell) ? Curves.Build(cell, r => r.Seed, r => r.Iteration, metric) : null;

        // Where the settings can be told apart within the run: Replace expected to lose ≥ 3/4 of its first value.
        bool TraceVisible((int Dim, int N) c) => Math.Pow((c.N - 1.0) / c.N, last - 1) <= GaussianVisibleShare;
        // d = 1: the det ratio is the trace ratio, so it adds no row.
        bool DetVisible((int Dim, int N) c) => c.Dim > 1 && c.N > c.Dim &&
            GaussianTheory.LogExpectedDetRatio(c.Dim, c.N, last) - GaussianTheory.LogExpectedDetRatio(c.Dim, c.N, 1) <= Math.Log(GaussianVisibleShare);
        var cells = new List<CellCurves>();
        foreach (var c in grid.Where(TraceVisible))
            cells.Add(new CellCurves($"trace_ratio d={c.Dim} n={c.N}", CurveOf(Setting.Replace, c.Dim, c.N, r => r.TraceRatio),
                CurveOf(Setting.Accumulate, c.Dim, c.N, r => r.TraceRatio), CurveOf(Setting.AccumulateSubsample, c.Dim, c.N, r => r.TraceRatio)));
        foreach (var c in grid.Where(DetVisible))
            cells.Add(new CellCurves($"det_ratio d={c.Dim} n={c.N}", CurveOf(Setting.Replace, c.Dim, c.N, r => r.DetRatio),
                CurveOf(Setting.Accumulate, c.Dim, c.N, r => r.DetRatio), CurveOf(Setting.AccumulateSubsample, c.Dim, c.N, r => r.DetRatio)));

        var dims = grid.Select(c => c.Dim).Distinct().ToList();
        var scope = $"{seeds} seeds × {last} iterations. Of the grid (d ∈ {Set(dims)}, n ∈ {Set(grid.Select(c => c.N).Distinct())}), the cells where exact theory " +
                    $"expects Replace's mean ratio at the last iteration to be at most {ClaimRules.Num(GaussianVisibleShare)} of the first's (trace: ((n−1)/n)^(T−1); " +
                    "det: Π(n−i)/n over i = 1..d, to the power T−1, for d > 1 (at d = 1 it is the trace ratio) and n > d, since with n ≤ d every fit is singular and the det ratio is 0 from the first): " +
                    "elsewhere the three settings cannot be told apart within the run. One row per (metric, d, n).";
        string[] figures = [.. dims.Select(d => $"figures/gaussian-trace_ratio-d{d}.png"), .. dims.Select(d => $"figures/gaussian-det_ratio-d{d}.png")];
        var claims = SettingClaims("gaussian", "the Gaussian det and trace ratios", plural: true, "fall toward 0 (the fitted covariance collapses)", cells, MetricKind.Ratio, scope, figures, t);
        claims.Add(GaussianTheoryClaim(rows, grid, last, t));
        return claims;
    }

    /// <summary>
    /// The measured means against <see cref="GaussianTheory"/>, at t = 1, T/4, T/2, T, for each d with the
    /// smallest n &gt; d: Replace's trace ratio, log det ratio and ‖μ_t‖²; Accumulate's and
    /// Accumulate-Subsample's trace ratio and ‖μ_t‖² (exact by the pool recursion).
    /// </summary>
    static Claim GaussianTheoryClaim(IReadOnlyList<GaussianRow> rows, IReadOnlyList<(int Dim, int N)> grid, int last, ClaimThresholds t)
    {
        var cells = grid.GroupBy(c => c.Dim).Select(g => g.Where(c => c.N > c.Dim).OrderBy(c => c.N).Cast<(int Dim, int N)?>().FirstOrDefault())
            .Where(c => c is not null).Select(c => c!.Value).ToList();
        int[] times = [.. new[] { 1, (last + 3) / 4, (last + 1) / 2, last }.Distinct()];
        var measured = rows.ToLookup(r => (r.Setting, r.Dim, r.N, r.Iteration));
        var points = new List<ClaimRow>();
        var excluded = 0;
        var heavy = 0;
        var settings = Settings.All.Where(s => rows.Any(r => r.Setting == s)).ToList();
        foreach (var setting in settings)
            foreach (var (d, n) in cells)
            {
                var expected = GaussianTheory.Expectations(setting, d, n, last);
                foreach (var time in times)
                {
                    var at = measured[(setting, d, n, time)].ToList();
                    if (at.Count == 0) continue;
                    void Add(string metric, Func<GaussianRow, double> value, double theory)
                    {
                        var row = ClaimRules.TheoryPoint($"{setting.Name()} {metric} d={d} n={n} t={time}", at.Select(value).ToList(), theory, t);
                        if (row is null) excluded++;
                        else points.Add(row);
                    }
                    // A mean over seeds tests Replace's E[trace ratio] only while the ratio is not too heavy-tailed: the variance
                    // of log of one direction's variance after t steps is t·ψ'((n−1)/2); beyond 1 rare seeds carry the mean.
                    // Accumulate's fits average every generation, so their spread stays bounded.
                    if (setting != Setting.Replace || time * GaussianTheory.Trigamma((n - 1) / 2.0) <= HeavyTail)
                        Add("trace_ratio", r => r.TraceRatio, expected[time - 1].TraceRatio);
                    else heavy++;
                    if (setting == Setting.Replace) Add("log_det_ratio", r => r.LogDetRatio, GaussianTheory.ExpectedLogDetRatio(d, n, time));
                    Add("squared_error_mean", r => r.SquaredErrorMean, expected[time - 1].SquaredErrorMean);
                }
            }
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        return new Claim("gaussian-theory", "gaussian",
            "The measured Gaussian curves follow the exact theory in every setting: under Replace E[trace ratio] = ((n−1)/n)^t, E[log det ratio] = t·(Σ_{i=1..d} ψ((n−i)/2) + d·log(2/n)), " +
            "E‖μ_t‖² = d·(1 − ((n−1)/n)^t); under Accumulate and Accumulate-Subsample E[trace ratio] and E‖μ_t‖² by the pool recursion (docs/DESIGN.md, section A; `collapse theory gaussian`).",
            ClaimRules.TheoryRule(t),
            $"{string.Join(", ", settings.Select(s => s.Name()))}; {seeds} seeds; for each d the smallest n > d of the grid ({string.Join(", ", cells.Select(c => $"d={c.Dim} n={c.N}"))}), at t ∈ {Set(times)}.",
            ClaimRules.TheoryColumns, points, ClaimRules.TheoryVerdict(points, t),
            [.. cells.Select(c => $"figures/gaussian-trace_ratio-d{c.Dim}.png").Distinct()])
        {
            Note = string.Join(" ", new[]
            {
                heavy > 0 ? $"{heavy} trace-ratio point(s) not compared: t·ψ'((n−1)/2) > {ClaimRules.Num(HeavyTail)} there (the log-det rows test those cells exactly)." : null,
                excluded > 0 ? $"{excluded} point(s) not compared: a seed's value was not finite (a fit singular below double precision)." : null,
            }.Where(x => x is not null)) is { Length: > 0 } note ? note : null,
        };
    }

    /// <summary>
    /// The bandwidth study (the authors' notebooks 11–12; this suite's claim): per (dataset, n), the fixed
    /// bandwidth with the lowest mean test NLL over seeds at iteration 1 (the real data's fit, the same in
    /// every setting) and at the last iteration of each setting. Replace's samples add N(0, h²I) to
    /// resampled points each generation, so its data diffuse and a wider kernel fits them better; Accumulate
    /// keeps the real data and grows to t·n points, which favour an h no wider (Scott's rule shrinks as
    /// m^(−1/(d+4))). A cell holds when Replace's best h at the last iteration is larger than iteration 1's
    /// and Accumulate's is not; it does not hold otherwise.
    /// </summary>
    public static IReadOnlyList<Claim> KdeBandwidth(IReadOnlyList<KdeRow> all, ClaimThresholds? thresholds = null)
    {
        var t = thresholds ?? ClaimThresholds.Default;
        var rows = all.Where(r => r.Bandwidth.Rule == "fixed").ToList();
        var grid = rows.Select(r => r.Bandwidth.Fixed).Distinct().Order().ToList();
        if (grid.Count < 3) return [];
        var last = rows.Max(r => r.Iteration);
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        // The grid index of the bandwidth whose mean NLL over seeds is lowest (NaN or infinite means lose).
        int? Best(IEnumerable<KdeRow> cell, Setting setting, int iteration)
        {
            var means = grid.Select(h => cell.Where(r => r.Setting == setting && r.Iteration == iteration && r.Bandwidth.Fixed == h)
                .Select(r => r.NllTest).DefaultIfEmpty(double.NaN).Average()).ToList();
            var finite = means.Select((m, i) => (m, i)).Where(p => double.IsFinite(p.m)).ToList();
            return finite.Count == 0 ? null : finite.MinBy(p => p.m).i;
        }
        string H(int? index) => index is int i ? ClaimRules.Num(grid[i]) : "—";
        var cells = new List<ClaimRow>();
        foreach (var cell in rows.GroupBy(r => (r.Dataset, r.N)).OrderBy(g => g.Key.Dataset).ThenBy(g => g.Key.N))
        {
            var first = Best(cell, Setting.Replace, 1) ?? Best(cell, Setting.Accumulate, 1);
            var (replace, accumulate, subsample) = (Best(cell, Setting.Replace, last), Best(cell, Setting.Accumulate, last), Best(cell, Setting.AccumulateSubsample, last));
            var verdict = first is not int f || replace is not int r || accumulate is not int a ? Verdict.Inconclusive
                : r > f && a <= f ? Verdict.Holds : Verdict.DoesNotHold;
            cells.Add(new ClaimRow($"{cell.Key.Dataset.Name()} n={cell.Key.N}", [H(first), H(replace), H(accumulate), H(subsample)], verdict));
        }
        return
        [
            new Claim("kde-bandwidth", "kde-bandwidth",
                "The best KDE bandwidth grows under Replace (its samples diffuse by N(0, h²I) a generation) and does not grow under Accumulate (the pool keeps the real data and gains points) " +
                "(this suite's claim; the authors swept h without stating one).",
                $"Per (dataset, n), the best h is the grid's bandwidth with the lowest mean test NLL over seeds. A cell holds when Replace's best h at iteration {last} is larger than iteration 1's " +
                "(the real data's fit, the same in every setting) and Accumulate's is not; it does not hold otherwise (no finite NLL at some h: inconclusive). Accumulate-Subsample is shown, not judged. " +
                ClaimRules.AggregateRule(t),
                $"{seeds} seeds × {last} iterations; h ∈ {Set(grid.Select(ClaimRules.Num))}; datasets {Set(rows.Select(r => r.Dataset.Name()).Distinct())}, n ∈ {Set(rows.Select(r => r.N).Distinct().Order())}.",
                ["best h, t=1 (real data)", $"Replace, t={last}", $"Accumulate, t={last}", $"Accumulate-Subsample, t={last}"], cells,
                ClaimRules.Aggregate(cells, t), ["figures/kde-nll-vs-bandwidth.png"]),
        ];
    }

    public static IReadOnlyList<Claim> Kde(IReadOnlyList<KdeRow> rows, ClaimThresholds? thresholds = null)
    {
        var t = thresholds ?? ClaimThresholds.Default;
        if (rows.Count == 0) return [];
        var last = rows.Max(r => r.Iteration);
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        var groups = rows.GroupBy(r => (r.Dataset, r.Bandwidth, r.N)).OrderBy(g => g.Key.Dataset).ThenBy(g => g.Key.Bandwidth.ToString(), StringComparer.Ordinal).ThenBy(g => g.Key.N);
        var cells = groups.Select(g =>
        {
            Curve? Of(Setting s) => g.Any(r => r.Setting == s) ? Curves.Build(g.Where(r => r.Setting == s).ToList(), r => r.Seed, r => r.Iteration, r => r.NllTest) : null;
            return new CellCurves($"{g.Key.Dataset.Name()} h={g.Key.Bandwidth} n={g.Key.N}", Of(Setting.Replace), Of(Setting.Accumulate), Of(Setting.AccumulateSubsample));
        }).ToList();
        var bandwidths = rows.Select(r => r.Bandwidth.ToString()).Distinct().ToList();
        var scope = $"{seeds} seeds × {last} iterations; every cell of the grid: datasets {Set(rows.Select(r => r.Dataset.Name()).Distinct())}, " +
                    $"h ∈ {Set(bandwidths)}, n ∈ {Set(rows.Select(r => r.N).Distinct().Order())}. One row per (dataset, h, n).";
        string[] figures = [.. bandwidths.Select(h => $"figures/kde-nll-h{h}.png")];
        return SettingClaims("kde", "the KDE's test NLL", plural: false, "rises with iterations", cells, MetricKind.Loss, scope, figures, t);
    }

    /// <summary>
    /// Regression cells whose mean over seeds is a usable estimate: the test MSE's noise term is σ² tr(X⁺X⁺ᵀ),
    /// whose mean is infinite for |n − d| ≤ 1 and whose variance is infinite for |n − d| ≤ 3 (inverse-Wishart
    /// moments), so there a few seeds with a near-singular design carry any mean and its standard error.
    /// </summary>
    public static bool RegressionMeanIsStable(int d, int n) => Math.Abs(n - d) > 3;

    /// <summary>
    /// The linear-regression setting (the authors' extra experiment, after Gerstgrasser et al. 2024): the
    /// setting claims over the test MSE of every cell whose mean is stable (<see cref="RegressionMeanIsStable"/>),
    /// and the measured means against <see cref="RegressionTheory"/>.
    /// </summary>
    public static IReadOnlyList<Claim> Regression(IReadOnlyList<RegressionRow> rows, ClaimThresholds? thresholds = null)
    {
        var t = thresholds ?? ClaimThresholds.Default;
        if (rows.Count == 0) return [];
        var last = rows.Max(r => r.Iteration);
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        var grid = rows.Select(r => (r.Dim, r.N, r.NoiseVariance)).Distinct().OrderBy(c => c.Dim).ThenBy(c => c.N).ThenBy(c => c.NoiseVariance).ToList();
        var stable = grid.Where(c => RegressionMeanIsStable(c.Dim, c.N)).ToList();
        var bySetting = rows.GroupBy(r => (r.Setting, r.Dim, r.N, r.NoiseVariance)).ToDictionary(g => g.Key, g => g.ToList());
        Curve? Of(Setting s, (int Dim, int N, double NoiseVariance) c) =>
            bySetting.TryGetValue((s, c.Dim, c.N, c.NoiseVariance), out var cell) ? Curves.Build(cell, r => r.Seed, r => r.Iteration, r => r.TestMse) : null;
        var cells = stable.Select(c => new CellCurves($"d={c.Dim} n={c.N} σ²={ClaimRules.Num(c.NoiseVariance)}",
            Of(Setting.Replace, c), Of(Setting.Accumulate, c), Of(Setting.AccumulateSubsample, c))).ToList();
        var left = grid.Count - stable.Count;
        var scope = $"{seeds} seeds × {last} iterations; the grid's cells (d ∈ {Set(grid.Select(c => c.Dim).Distinct())}, n ∈ {Set(grid.Select(c => c.N).Distinct().Order())}, " +
                    $"σ² ∈ {Set(grid.Select(c => ClaimRules.Num(c.NoiseVariance)).Distinct())}) with |n − d| > 3" +
                    (left > 0 ? $" ({left} cell(s) left out: there the noise term σ²·tr(X⁺X⁺ᵀ) has infinite variance, or infinite mean for |n − d| ≤ 1, so rare near-singular designs carry the mean)" : "") +
                    ". Metric: test MSE against the noiseless labels of 1,000 fresh points (the authors'). One row per (d, n, σ²).";
        string[] figures = [.. grid.Select(c => $"figures/{RegressionFigureName(c.Dim, c.NoiseVariance)}").Distinct()];
        var claims = SettingClaims("regression", "the regression's test MSE", plural: false, "rises with iterations", cells, MetricKind.Loss, scope, figures, t);
        claims.Add(RegressionTheoryClaim(rows, stable, last, t));
        return claims;
    }

    /// <summary>The file name the regression figures give a (d, σ²) panel set (RegressionFigures.TestMseFile).</summary>
    static string RegressionFigureName(int d, double noiseVariance) =>
        $"regression-test_mse-d{d}-sigma2_{CsvNumber.Format(noiseVariance)}.png";

    /// <summary>Replace's and Accumulate's measured mean test MSE against the exact expectation at t = 1, T/4, T/2, T in every stable cell.</summary>
    static Claim RegressionTheoryClaim(IReadOnlyList<RegressionRow> rows, IReadOnlyList<(int Dim, int N, double NoiseVariance)> cells, int last, ClaimThresholds t)
    {
        int[] times = [.. new[] { 1, (last + 3) / 4, (last + 1) / 2, last }.Distinct()];
        var measured = rows.ToLookup(r => (r.Setting, r.Dim, r.N, r.NoiseVariance, r.Iteration));
        var points = new List<ClaimRow>();
        var settings = new[] { Setting.Replace, Setting.Accumulate }.Where(s => rows.Any(r => r.Setting == s)).ToList();
        foreach (var setting in settings)
            foreach (var (d, n, v) in cells)
            {
                var expected = RegressionTheory.ExpectedTestMse(setting, d, n, v, last);
                foreach (var time in times)
                {
                    var at = measured[(setting, d, n, v, time)].Select(r => r.TestMse).ToList();
                    if (at.Count == 0) continue;
                    if (ClaimRules.TheoryPoint($"{setting.Name()} d={d} n={n} σ²={ClaimRules.Num(v)} t={time}", at, expected[time - 1], t) is { } point)
                        points.Add(point);
                }
            }
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        return new Claim("regression-theory", "regression",
            "The measured regression test MSE follows the exact theory: E = max(d − n, 0) + σ²·m·t under Replace and max(d − n, 0) + σ²·m·Σ_{k≤t} 1/k² under Accumulate, " +
            "m = d/(n − d − 1) for n > d + 1 and n/(d − n − 1) for n < d − 1 (Gerstgrasser et al. 2024 for n > d + 1; docs/DESIGN.md, section E; `collapse theory regression`).",
            $"Each point compares the mean over seeds with the exact expectation; it agrees when within {ClaimRules.Num(t.TheoryZ)} se. The claim holds when at least " +
            $"{t.TheoryShare:P0} of the points agree, and does not hold otherwise; fewer than 2 seeds: inconclusive. Accumulate-Subsample has no closed form beyond t = 1 (docs/DESIGN.md, section E) and is not compared.",
            $"{string.Join(", ", settings.Select(s => s.Name()))}; {seeds} seeds; every cell with |n − d| > 3, at t ∈ {Set(times)}.",
            ClaimRules.TheoryColumns, points, ClaimRules.TheoryVerdict(points, t),
            [.. cells.Select(c => $"figures/{RegressionFigureName(c.Dim, c.NoiseVariance)}").Distinct()]);
    }

    public static IReadOnlyList<Claim> Lm(IReadOnlyList<LmRow> rows, ClaimThresholds? thresholds = null)
    {
        var t = thresholds ?? ClaimThresholds.Default;
        if (rows.Count == 0) return [];
        var last = rows.Max(r => r.Iteration);
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        var cells = rows.GroupBy(r => r.Curve).Select(g =>
        {
            Curve? Of(Setting s) => g.Any(r => r.Setting == s) ? Curves.Build(g.Where(r => r.Setting == s).ToList(), r => r.Seed, r => r.Iteration, r => r.TestLoss) : null;
            var n = g.Where(r => r.Iteration == 1).Select(r => r.TrainExamples).FirstOrDefault();
            return new CellCurves($"{g.Key} (n={n})", Of(Setting.Replace), Of(Setting.Accumulate), Of(Setting.AccumulateSubsample));
        }).ToList();
        var regimes = rows.Select(r => r.Regime).Distinct().Order().Select(r => r == Sweeps.LmRegime.Finetune
            ? "finetune: every fit starts from one base pretrained on Shakespeare's words (the paper's protocol)"
            : "scratch: every fit starts from the seed's random weights (an extension: the paper fine-tunes)");
        var scope = $"{seeds} seeds × {last} iterations; every preset and regime of the run ({string.Join(", ", cells.Select(c => c.Cell))}); " +
                    $"{string.Join("; ", regimes)}. Metric: test cross-entropy (nats per character) on the real held-out names.";
        return SettingClaims("lm", "the language model's test loss", plural: false, "rises with iterations", cells, MetricKind.Loss, scope, ["figures/lm-test-loss.png"], t);
    }

    /// <summary>
    /// The mix study's claim for one family (docs/DESIGN.md, section D): synthetic data helps when real data
    /// are scarce and hurts when they are plentiful. The verdict is <see cref="MixSummary"/>'s pattern;
    /// a row per num_real shows its finding, holding when it agrees with that split (helped below
    /// every num_real where it only hurt, or hurt above every num_real where it only helped).
    /// </summary>
    /// <param name="protocol">How the run trained where the family has a choice (<see cref="MixSummary.LmProtocol"/>), appended to the scope.</param>
    public static IReadOnlyList<Claim> Mix(string experiment, string header, IReadOnlyList<MixRow> rows, double z = 2.0, string? protocol = null)
    {
        if (rows.Count == 0) return [];
        var description = MixSummary.Describe(rows, header, z);
        var findings = description.Findings;
        bool HurtBelow(int n) => findings.Any(f => f.NumReal < n && f.Verdict == MixVerdict.Hurt);
        bool HelpedAbove(int n) => findings.Any(f => f.NumReal > n && f.Verdict == MixVerdict.Helped);
        var claimRows = findings.Select(f => new ClaimRow($"num_real = {MixSummary.Count(f.NumReal)}",
            [ClaimRules.Num(f.Baseline), f.Verdict.ToString(), f.Sentence[(f.Sentence.IndexOf(':') + 1)..].Trim()],
            f.Verdict switch
            {
                MixVerdict.Helped => HurtBelow(f.NumReal) ? Verdict.DoesNotHold : Verdict.Holds,
                MixVerdict.Hurt => HelpedAbove(f.NumReal) ? Verdict.DoesNotHold : Verdict.Holds,
                _ => Verdict.Inconclusive,
            })).ToList();
        var verdict = description.PatternHolds switch { true => Verdict.Holds, false => Verdict.DoesNotHold, null => Verdict.Inconclusive };
        var seeds = rows.Select(r => r.Seed).Distinct().Count();
        var counts = rows.Select(r => r.NumSynthetic).Distinct().Order().Select(MixSummary.Count);
        return
        [
            new Claim($"{experiment}-interaction", experiment,
                $"Mix study ({description.Title}): synthetic data helps when real data are scarce and hurts when they are plentiful.",
                $"Per num_real, each num_synthetic is compared with num_synthetic = 0, paired by seed: a mean difference in {description.MetricName} beyond {ClaimRules.Num(z)} standard errors is helped (lower) or hurt (higher). " +
                "Holds when synthetic data helped at some num_real and hurt at a larger one, with no num_real where it only hurt below one where it only helped; does not hold otherwise; inconclusive when no num_real shows a significant effect.",
                $"{seeds} seeds; num_synthetic {string.Join(", ", counts)}; every num_real of the run. Metric: {MixRow.MetricLabel(description.Family)} on real test data." +
                (protocol is null ? "" : $" Training: {protocol}."),
                ["no-synthetic baseline", "finding", "details"], claimRows, verdict, ["figures/mix-proportion.png", "figures/mix-heatmap.png"])
            {
                Note = description.Overall,
            },
        ];
    }

    /// <summary>The four setting claims over cells of one metric kind; a claim lacking its settings' curves is left out.</summary>
    static List<Claim> SettingClaims(string experiment, string metric, bool plural, string replaceEffect, IReadOnlyList<CellCurves> cells, MetricKind kind,
        string scope, IReadOnlyList<string> figures, ClaimThresholds t)
    {
        var aggregate = " " + ClaimRules.AggregateRule(t);
        var claims = new List<Claim>();
        var withNone = cells.Count == 0 ? "no cell qualifies, so nothing is aggregated" : null;
        Claim Make(string id, string statement, string rule, string[] columns, IReadOnlyList<ClaimRow> rows) =>
            new($"{experiment}-{id}", experiment, statement, rule + aggregate, scope, columns, rows, ClaimRules.Aggregate(rows, t), figures) { Note = withNone };

        var replace = cells.Where(c => c.Replace is not null).Select(c => ClaimRules.Replace(c.Cell, c.Replace!, kind, t)).ToList();
        claims.Add(Make("replace", $"Replace: {metric} {replaceEffect}.", ClaimRules.ReplaceRule(kind, t), ClaimRules.ReplaceColumns, replace));
        var accumulate = cells.Where(c => c.Accumulate is not null).Select(c => ClaimRules.Accumulate(c.Cell, c.Accumulate!, kind, t)).ToList();
        claims.Add(Make("accumulate", $"Accumulate: {metric} {(plural ? "stay" : "stays")} bounded (the last iteration's mean within a factor {ClaimRules.Num(t.BoundFactor)} of the first's).",
            ClaimRules.AccumulateRule(kind, t), ClaimRules.AccumulateColumns, accumulate));
        var complete = cells.Where(c => c.Replace is not null && c.Accumulate is not null && c.Subsample is not null).ToList();
        if (cells.Count == 0 || complete.Count > 0)
        {
            claims.Add(Make("subsample-between", $"Accumulate-Subsample: {metric} {(plural ? "end" : "ends")} worse than under Accumulate but better than under Replace.",
                ClaimRules.BetweenRule(t), ClaimRules.BetweenColumns,
                [.. complete.Select(c => ClaimRules.Between(c.Cell, c.Accumulate!, c.Subsample!, c.Replace!, kind, t))]));
            claims.Add(Make("subsample-plateau", $"Accumulate-Subsample: {metric} {(plural ? "plateau" : "plateaus")} (no real trend over the last half of the iterations), unlike Replace.",
                ClaimRules.PlateauRule(t), ClaimRules.PlateauColumns, [.. complete.Select(c => ClaimRules.Plateau(c.Cell, c.Subsample!, c.Replace!, t))]));
        }
        return claims;
    }

    static string Set<T>(IEnumerable<T> values) => "{" + string.Join(", ", values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))) + "}";
}

/// <summary>Curves from tidy rows.</summary>
public static class Curves
{
    /// <summary>One cell's rows (any order) as a curve: seeds ascending, iterations 1..T.</summary>
    public static Curve Build<TRow>(IReadOnlyList<TRow> rows, Func<TRow, int> seed, Func<TRow, int> iteration, Func<TRow, double> value)
    {
        var bySeed = rows.GroupBy(seed).OrderBy(g => g.Key).ToList();
        var values = bySeed.Select(g =>
        {
            var ordered = g.OrderBy(iteration).ToList();
            var series = new double[ordered.Count == 0 ? 0 : iteration(ordered[^1])];
            Array.Fill(series, double.NaN);
            foreach (var r in ordered) series[iteration(r) - 1] = value(r);
            return series;
        }).ToList();
        return new Curve(bySeed.Select(g => g.Key).ToList(), values);
    }
}
