namespace Collapse.Engine.Reports;

public enum Verdict
{
    Holds,
    DoesNotHold,
    /// <summary>The data cannot decide: too few seeds or iterations, or nothing to aggregate.</summary>
    Inconclusive,
}

/// <summary>How a metric goes wrong, which fixes what "worse" and "bounded" mean.</summary>
public enum MetricKind
{
    /// <summary>A positive ratio to the truth (1 at the real distribution; collapse drives it toward 0): the Gaussian det and trace ratios.</summary>
    Ratio,
    /// <summary>A loss: higher is worse (test NLL, test cross-entropy).</summary>
    Loss,
}

/// <summary>One row of a claim's table: a cell (or comparison), its numbers, and its own verdict.</summary>
public sealed record ClaimRow(string Cell, IReadOnlyList<string> Numbers, Verdict Verdict);

/// <summary>
/// A claim of the paper checked against data: the claim in one sentence, the rule (with its
/// thresholds), which cells it aggregated, the measured numbers (a table, one row per cell) and
/// the verdict the rule computed from them.
/// </summary>
/// <param name="Id">Stable id, e.g. <c>gaussian-replace</c>.</param>
/// <param name="Experiment">The experiment whose data it reads (<c>gaussian</c>, <c>kde</c>, <c>lm</c>, <c>mix</c>).</param>
/// <param name="Figures">Figures that show it, relative to the experiment's directory (the report keeps those that exist).</param>
public sealed record Claim(string Id, string Experiment, string Statement, string Rule, string Cells,
    IReadOnlyList<string> Columns, IReadOnlyList<ClaimRow> Rows, Verdict Verdict, IReadOnlyList<string> Figures)
{
    public string? Note { get; init; }
}

/// <summary>The thresholds every rule states; defaults are the report's.</summary>
public sealed record ClaimThresholds
{
    /// <summary>A difference, change or slope is significant when it exceeds this many standard errors.</summary>
    public double Z { get; init; } = 2.0;
    /// <summary>Replace collapses a ratio when the last iteration's mean is at most this fraction of the first's.</summary>
    public double CollapseFraction { get; init; } = 0.5;
    /// <summary>Accumulate is bounded when the last iteration's mean is within this factor of the first's.</summary>
    public double BoundFactor { get; init; } = 2.0;
    /// <summary>A plateau: the last half's slope, extrapolated over another run of T iterations, moves the mean by at most this share of Replace's change over the run.</summary>
    public double PlateauShare { get; init; } = 0.25;
    /// <summary>Fewest iterations in the last half for a trend to be judged.</summary>
    public int MinTailIterations { get; init; } = 3;
    /// <summary>Theory agrees with a measured mean within this many standard errors…</summary>
    public double TheoryZ { get; init; } = 3.0;
    /// <summary>…at at least this share of the compared points.</summary>
    public double TheoryShare { get; init; } = 0.95;
    /// <summary>A claim over several cells holds when at least this share of them hold (and it does not hold when at least <see cref="FailShare"/> do not).</summary>
    public double HoldShare { get; init; } = 0.75;
    public double FailShare { get; init; } = 0.5;

    public static readonly ClaimThresholds Default = new();
}

/// <summary>
/// The verdict rules: pure functions from curves to a <see cref="Claim"/>'s rows and verdict.
/// Every rule judges each cell on its own (fewer than 2 seeds: Inconclusive, there is no standard
/// error), then <see cref="Aggregate"/> combines the cells.
/// </summary>
public static class ClaimRules
{
    /// <summary>
    /// Over the cells: Holds when at least <see cref="ClaimThresholds.HoldShare"/> of them hold;
    /// DoesNotHold when at least <see cref="ClaimThresholds.FailShare"/> do not; otherwise (and with no cells) Inconclusive.
    /// </summary>
    public static Verdict Aggregate(IReadOnlyList<ClaimRow> rows, ClaimThresholds t)
    {
        if (rows.Count == 0) return Verdict.Inconclusive;
        var holds = rows.Count(r => r.Verdict == Verdict.Holds);
        var fails = rows.Count(r => r.Verdict == Verdict.DoesNotHold);
        if (holds >= t.HoldShare * rows.Count) return Verdict.Holds;
        if (fails >= t.FailShare * rows.Count) return Verdict.DoesNotHold;
        return Verdict.Inconclusive;
    }

    public static string AggregateRule(ClaimThresholds t) =>
        $"Each cell is judged on its own (fewer than 2 seeds: inconclusive); the claim holds when at least {Pct(t.HoldShare)} of the cells hold, " +
        $"does not hold when at least {Pct(t.FailShare)} do not, and is inconclusive otherwise.";

    /// <summary>+1 when a larger value is worse, −1 when a smaller one is (a ratio collapsing toward 0).</summary>
    static double Worse(MetricKind kind) => kind == MetricKind.Loss ? 1.0 : -1.0;

    // ----- Replace -----

    public static readonly string[] ReplaceColumns = ["first (t=1)", "last (t=T)", "last / first", "paired change", "slope / iteration"];

    public static string ReplaceRule(MetricKind kind, ClaimThresholds t) => kind == MetricKind.Ratio
        ? $"A cell holds when the mean at the last iteration is at most {Num(t.CollapseFraction)} × the first iteration's and the paired per-seed change (last − first) is negative beyond {Num(t.Z)} se."
        : $"A cell holds when the paired per-seed change (last − first) is positive beyond {Num(t.Z)} se and the mean per-seed least-squares slope over all iterations is positive beyond {Num(t.Z)} se.";

    /// <summary>Replace worsens: a ratio falls toward 0 (to a stated fraction of its first value), a loss rises with iterations.</summary>
    public static ClaimRow Replace(string cell, Curve curve, MetricKind kind, ClaimThresholds t)
    {
        var last = curve.Iterations;
        var first = curve.At(1);
        var end = curve.At(last);
        var change = curve.Change(1, last);
        var slope = curve.Slope(1, last);
        var ratio = end.Mean / first.Mean;
        string[] numbers = [Pm(first), Pm(end), Num(ratio), Pm(change), Pm(slope)];
        if (curve.Seeds < 2 || last < 2 || !change.Known) return new ClaimRow(cell, numbers, Verdict.Inconclusive);
        var worsened = Worse(kind) * change.Mean > 0 && change.Significant(t.Z);
        var holds = kind == MetricKind.Ratio
            ? worsened && ratio <= t.CollapseFraction
            : worsened && slope.Mean > 0 && slope.Significant(t.Z);
        return new ClaimRow(cell, numbers, holds ? Verdict.Holds : Verdict.DoesNotHold);
    }

    // ----- Accumulate -----

    public static readonly string[] AccumulateColumns = ["first (t=1)", "last (t=T)", "last / first"];

    public static string AccumulateRule(MetricKind kind, ClaimThresholds t) => kind == MetricKind.Ratio
        ? $"A cell holds when the mean at the last iteration is within a factor {Num(t.BoundFactor)} of the first iteration's (1/{Num(t.BoundFactor)} ≤ last / first ≤ {Num(t.BoundFactor)})."
        : $"A cell holds when the mean at the last iteration is at most {Num(t.BoundFactor)} × the first iteration's (a loss whose first mean is not positive has no factor: inconclusive).";

    /// <summary>Accumulate stays bounded: the last iteration's mean within a stated factor of the first's.</summary>
    public static ClaimRow Accumulate(string cell, Curve curve, MetricKind kind, ClaimThresholds t)
    {
        var first = curve.At(1);
        var end = curve.At(curve.Iterations);
        var ratio = end.Mean / first.Mean;
        string[] numbers = [Pm(first), Pm(end), Num(ratio)];
        if (curve.Seeds < 2 || curve.Iterations < 2 || !double.IsFinite(ratio) || (kind == MetricKind.Loss && first.Mean <= 0))
            return new ClaimRow(cell, numbers, Verdict.Inconclusive);
        var holds = kind == MetricKind.Ratio ? ratio >= 1 / t.BoundFactor && ratio <= t.BoundFactor : ratio <= t.BoundFactor;
        return new ClaimRow(cell, numbers, holds ? Verdict.Holds : Verdict.DoesNotHold);
    }

    // ----- Accumulate-Subsample: between the two -----

    public static readonly string[] BetweenColumns = ["Accumulate (t=T)", "Accumulate-Subsample (t=T)", "Replace (t=T)", "Subsample − Accumulate", "Replace − Subsample"];

    public static string BetweenRule(ClaimThresholds t) =>
        $"At the last iteration, paired by seed: a cell holds when Accumulate-Subsample is worse than Accumulate and better than Replace, each difference beyond {Num(t.Z)} se.";

    /// <summary>Accumulate-Subsample ends worse than Accumulate and better than Replace.</summary>
    public static ClaimRow Between(string cell, Curve accumulate, Curve subsample, Curve replace, MetricKind kind, ClaimThresholds t)
    {
        var last = Math.Min(subsample.Iterations, Math.Min(accumulate.Iterations, replace.Iterations));
        var worseThanAccumulate = Curve.Difference(subsample, accumulate, last);
        var betterThanReplace = Curve.Difference(replace, subsample, last);
        string[] numbers = [Pm(accumulate.At(last)), Pm(subsample.At(last)), Pm(replace.At(last)), Pm(worseThanAccumulate), Pm(betterThanReplace)];
        if (subsample.Seeds < 2 || !worseThanAccumulate.Known || !betterThanReplace.Known) return new ClaimRow(cell, numbers, Verdict.Inconclusive);
        var holds = Worse(kind) * worseThanAccumulate.Mean > 0 && worseThanAccumulate.Significant(t.Z)
                    && Worse(kind) * betterThanReplace.Mean > 0 && betterThanReplace.Significant(t.Z);
        return new ClaimRow(cell, numbers, holds ? Verdict.Holds : Verdict.DoesNotHold);
    }

    // ----- Accumulate-Subsample: plateau -----

    public static readonly string[] PlateauColumns = ["last-half slope / iteration", "slope × T", "Replace's change over the run", "share"];

    public static string PlateauRule(ClaimThresholds t) =>
        $"Over the last half of the iterations (T/2+1..T; at least {t.MinTailIterations} of them, else inconclusive), the mean per-seed least-squares slope of Accumulate-Subsample: " +
        $"a cell holds when it is within {Num(t.Z)} se of 0, or when, extrapolated over another T iterations, it would move the mean by at most " +
        $"{Num(t.PlateauShare)} × the change Replace made over the whole run in the same cell (mean at T − mean at 1) — unlike Replace, it has (nearly) stopped moving.";

    /// <summary>Accumulate-Subsample plateaus: no significant trend over the last half, or one that is small beside Replace's change.</summary>
    public static ClaimRow Plateau(string cell, Curve subsample, Curve replace, ClaimThresholds t)
    {
        var last = subsample.Iterations;
        var from = last / 2 + 1;
        var slope = last - from + 1 >= 2 ? subsample.Slope(from, last) : new Estimate(double.NaN, double.NaN, subsample.Seeds);
        var replaceChange = replace.At(Math.Min(last, replace.Iterations)).Mean - replace.At(1).Mean;
        var extrapolated = Math.Abs(slope.Mean) * last;
        var share = extrapolated / Math.Abs(replaceChange);
        string[] numbers = [Pm(slope), Num(extrapolated), Num(replaceChange), Num(share)];
        if (subsample.Seeds < 2 || last - from + 1 < t.MinTailIterations || !slope.Known) return new ClaimRow(cell, numbers, Verdict.Inconclusive);
        var flat = !slope.Significant(t.Z);
        var small = double.IsFinite(share) && share <= t.PlateauShare;
        return new ClaimRow(cell, numbers, flat || small ? Verdict.Holds : Verdict.DoesNotHold);
    }

    // ----- Gaussian theory -----

    public static readonly string[] TheoryColumns = ["measured mean ± se", "exact theory", "(measured − theory) / se"];

    public static string TheoryRule(ClaimThresholds t) =>
        $"Each point compares the mean over seeds with the exact expectation; it agrees when within {Num(t.TheoryZ)} se. " +
        $"The claim holds when at least {Pct(t.TheoryShare)} of the points agree, and does not hold otherwise; points where a seed's value is not finite " +
        "(a fit singular below double precision: log det −∞) are not compared, nor trace-ratio points where t·ψ'((n−1)/2) > 1 " +
        "(the variance of log of one direction's variance after t steps: beyond it the ratio is so heavy-tailed that rare seeds carry its mean and the standard error over seeds is no guide; " +
        "E[log det ratio] and its rows are exact whatever the tail); fewer than 2 seeds: inconclusive.";

    /// <summary>One measured point against theory: its row (the verdict says whether it is within <see cref="ClaimThresholds.TheoryZ"/> se), or null when a value is not finite.</summary>
    public static ClaimRow? TheoryPoint(string label, IReadOnlyCollection<double> values, double theory, ClaimThresholds t)
    {
        if (values.Any(v => !double.IsFinite(v)) || !double.IsFinite(theory)) return null;
        var measured = Estimate.Of(values);
        var z = (measured.Mean - theory) / measured.StandardError;
        string[] numbers = [Pm(measured), Num(theory), Num(z)];
        if (!measured.Known || measured.Count < 2) return new ClaimRow(label, numbers, Verdict.Inconclusive);
        return new ClaimRow(label, numbers, Math.Abs(z) <= t.TheoryZ ? Verdict.Holds : Verdict.DoesNotHold);
    }

    /// <summary>The theory claim's verdict over its points.</summary>
    public static Verdict TheoryVerdict(IReadOnlyList<ClaimRow> points, ClaimThresholds t)
    {
        if (points.Count == 0 || points.Any(p => p.Verdict == Verdict.Inconclusive)) return Verdict.Inconclusive;
        return points.Count(p => p.Verdict == Verdict.Holds) >= t.TheoryShare * points.Count ? Verdict.Holds : Verdict.DoesNotHold;
    }

    // ----- formatting -----

    /// <summary>A number as the report prints it: 4 significant digits, invariant.</summary>
    public static string Num(double value) =>
        double.IsNaN(value) ? "n/a"
        : double.IsPositiveInfinity(value) ? "inf"
        : double.IsNegativeInfinity(value) ? "-inf"
        : value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>mean ± se.</summary>
    public static string Pm(Estimate e) => double.IsFinite(e.StandardError) ? $"{Num(e.Mean)} ± {Num(e.StandardError)}" : Num(e.Mean);

    static string Pct(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";
}
