namespace Collapse.Tests.Reports;

/// <summary>The verdict rules fed synthetic curves: those that show the paper's effects hold, those that do not are refused, one seed decides nothing.</summary>
public class ClaimRulesTests
{
    static readonly ClaimThresholds T = ClaimThresholds.Default;

    /// <summary>seeds × iterations values f(t) · (1 + noise), with fixed-seed noise of relative size <paramref name="noise"/>.</summary>
    static Curve Make(int seeds, int iterations, Func<int, double> f, double noise, int seed = 1)
    {
        var random = new System.Random(seed);
        return Curve.FromSeeds([.. Enumerable.Range(0, seeds).Select(_ =>
            Enumerable.Range(1, iterations).Select(t => f(t) * (1 + noise * (2 * random.NextDouble() - 1))).ToArray())]);
    }

    static Curve Collapsing(int seeds = 10) => Make(seeds, 40, t => Math.Pow(0.9, t), 0.2);
    static Curve Flat(int seeds = 10, int seed = 2) => Make(seeds, 40, _ => 1.0, 0.2, seed);
    static Curve Rising(int seeds = 10) => Make(seeds, 40, t => 2 + 0.05 * t, 0.02, 3);

    [Fact]
    public void A_collapsing_replace_ratio_holds_and_one_that_does_not_collapse_does_not()
    {
        Assert.Equal(Verdict.Holds, ClaimRules.Replace("c", Collapsing(), MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Replace("c", Flat(), MetricKind.Ratio, T).Verdict);
        // Falling, but not to half of its first value: not "toward 0".
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Replace("c", Make(10, 40, t => 1 - 0.005 * t, 0.01), MetricKind.Ratio, T).Verdict);
    }

    [Fact]
    public void A_rising_replace_loss_holds_and_a_flat_or_falling_one_does_not()
    {
        Assert.Equal(Verdict.Holds, ClaimRules.Replace("c", Rising(), MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Replace("c", Flat(), MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Replace("c", Make(10, 40, t => 3 - 0.02 * t, 0.01), MetricKind.Loss, T).Verdict);
    }

    [Fact]
    public void Accumulate_that_grows_without_bound_does_not_hold()
    {
        var growing = Make(10, 40, t => 1 + 0.5 * t, 0.05);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Accumulate("c", growing, MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Accumulate("c", growing, MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Accumulate("c", Collapsing(), MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.Holds, ClaimRules.Accumulate("c", Flat(), MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.Holds, ClaimRules.Accumulate("c", Flat(), MetricKind.Loss, T).Verdict);
        // A loss whose first mean is not positive has no factor.
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Accumulate("c", Make(10, 40, _ => -1.0, 0.1), MetricKind.Loss, T).Verdict);
    }

    [Fact]
    public void One_seed_decides_nothing()
    {
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Replace("c", Collapsing(seeds: 1), MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Replace("c", Flat(seeds: 1), MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Accumulate("c", Flat(seeds: 1), MetricKind.Ratio, T).Verdict);
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Plateau("c", Flat(seeds: 1), Rising(seeds: 1), T).Verdict);
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Between("c", Flat(seeds: 1), Flat(seeds: 1, seed: 5), Rising(seeds: 1), MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.Inconclusive, ClaimRules.TheoryPoint("p", [1.0], 1.0, T)!.Verdict);
    }

    [Fact]
    public void A_subsample_curve_that_keeps_rising_like_replace_is_no_plateau()
    {
        var replace = Rising();
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Plateau("c", Make(10, 40, t => 2 + 0.04 * t, 0.01, 7), replace, T).Verdict);
        // Saturating: rises early, then flat.
        Assert.Equal(Verdict.Holds, ClaimRules.Plateau("c", Make(10, 40, t => 2 + 0.3 * (1 - Math.Exp(-t / 3.0)), 0.01, 8), replace, T).Verdict);
        Assert.Equal(Verdict.Holds, ClaimRules.Plateau("c", Flat(), replace, T).Verdict);
        // Too short a last half to judge a trend.
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Plateau("c", Make(10, 4, _ => 1.0, 0.1), Make(10, 4, t => t, 0.1), T).Verdict);
    }

    [Fact]
    public void Subsample_between_accumulate_and_replace_holds_and_out_of_order_does_not()
    {
        var accumulate = Make(10, 30, _ => 2.0, 0.01, 11);
        var subsample = Make(10, 30, t => 2 + 0.01 * t, 0.01, 12);
        var replace = Make(10, 30, t => 2 + 0.05 * t, 0.01, 13);
        Assert.Equal(Verdict.Holds, ClaimRules.Between("c", accumulate, subsample, replace, MetricKind.Loss, T).Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Between("c", subsample, accumulate, replace, MetricKind.Loss, T).Verdict);
        // For a ratio, worse is lower.
        Assert.Equal(Verdict.Holds, ClaimRules.Between("c", Make(10, 30, _ => 1.0, 0.01), Make(10, 30, _ => 0.8, 0.01, 4), Collapsing(), MetricKind.Ratio, T).Verdict);
    }

    [Fact]
    public void Theory_points_agree_within_three_standard_errors()
    {
        double[] values = [0.9, 1.0, 1.1, 0.95, 1.05];
        Assert.Equal(Verdict.Holds, ClaimRules.TheoryPoint("p", values, 1.0, T)!.Verdict);
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.TheoryPoint("p", values, 2.0, T)!.Verdict);
        Assert.Null(ClaimRules.TheoryPoint("p", [double.NegativeInfinity, -3.0], -3.0, T));
        ClaimRow Row(Verdict v) => new("p", [], v);
        Assert.Equal(Verdict.Holds, ClaimRules.TheoryVerdict([.. Enumerable.Repeat(Row(Verdict.Holds), 19), Row(Verdict.DoesNotHold)], T));
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.TheoryVerdict([.. Enumerable.Repeat(Row(Verdict.Holds), 18), Row(Verdict.DoesNotHold), Row(Verdict.DoesNotHold)], T));
    }

    [Fact]
    public void Cells_aggregate_by_the_stated_shares()
    {
        ClaimRow Row(Verdict v) => new("c", [], v);
        Assert.Equal(Verdict.Holds, ClaimRules.Aggregate([Row(Verdict.Holds), Row(Verdict.Holds), Row(Verdict.Holds), Row(Verdict.DoesNotHold)], T));
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Aggregate([Row(Verdict.Holds), Row(Verdict.Holds), Row(Verdict.DoesNotHold), Row(Verdict.Inconclusive)], T));
        Assert.Equal(Verdict.DoesNotHold, ClaimRules.Aggregate([Row(Verdict.Holds), Row(Verdict.DoesNotHold)], T));
        Assert.Equal(Verdict.Inconclusive, ClaimRules.Aggregate([], T));
    }

    /// <summary>Gaussian rows whose Replace chains do not collapse (every setting flat): the report's claim says so, computed through the whole row pipeline.</summary>
    [Fact]
    public void Gaussian_rows_without_collapse_give_a_replace_claim_that_does_not_hold()
    {
        List<GaussianRow> Rows(Func<Setting, int, double> ratio)
        {
            var random = new System.Random(5);
            var rows = new List<GaussianRow>();
            foreach (var s in Settings.All)
                for (var seed = 0; seed < 8; seed++)
                    for (var t = 1; t <= 30; t++)
                    {
                        var v = ratio(s, t) * (1 + 0.1 * (2 * random.NextDouble() - 1));
                        rows.Add(new GaussianRow(s, 2, 10, seed, t, 0.1, v, Math.Log(v), v));
                    }
            return rows;
        }
        var flat = ExperimentClaims.Gaussian(Rows((_, _) => 1.0));
        Assert.Equal(Verdict.DoesNotHold, flat.Single(c => c.Id == "gaussian-replace").Verdict);
        Assert.Equal(Verdict.Holds, flat.Single(c => c.Id == "gaussian-accumulate").Verdict);
        var collapsing = ExperimentClaims.Gaussian(Rows((s, t) => s == Setting.Replace ? Math.Pow(0.8, t) : 1.0));
        Assert.Equal(Verdict.Holds, collapsing.Single(c => c.Id == "gaussian-replace").Verdict);
        // The theory claim compares with E[trace ratio] = ((n − 1)/n)^t: a flat curve is far from 0.9^30.
        Assert.Equal(Verdict.DoesNotHold, flat.Single(c => c.Id == "gaussian-theory").Verdict);
    }
}
