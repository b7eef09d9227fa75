namespace Collapse.Tests.Families;

/// <summary>
/// <see cref="RegressionTheory"/>: hand values from the inverse-Wishart means, and agreement with the
/// float64 reference of the authors' loop (<see cref="ReferenceRegression"/>) over many seeds.
/// </summary>
public class RegressionTheoryTests
{
    static double[] Expected(Setting setting, int d, int n, double sigmaSquared, int iterations) =>
        RegressionTheory.ExpectedTestMse(setting, d, n, sigmaSquared, iterations);

    /// <summary>
    /// d = 1: XᵀX is χ²_n and E[1/χ²_5] = 1/3, so with σ² = 2 Replace has 2/3 at t = 1 and 4/3 at t = 2,
    /// Accumulate 2/3 and (2/3)(1 + 1/4) = 5/6. d = 5, n = 2: XXᵀ is Wishart(5, I₂), E tr of its inverse
    /// is 2/(5 − 2 − 1) = 1, on top of the bias d − n = 3.
    /// </summary>
    [Fact]
    public void Hand_values_at_the_first_two_iterations()
    {
        AssertClose([2.0 / 3, 4.0 / 3], Expected(Setting.Replace, 1, 5, 2, 2), 1e-15);
        AssertClose([2.0 / 3, 5.0 / 6], Expected(Setting.Accumulate, 1, 5, 2, 2), 1e-15);
        AssertClose([4.0, 5.0], Expected(Setting.Replace, 5, 2, 1, 2), 1e-15);
        AssertClose([4.0, 4.25], Expected(Setting.Accumulate, 5, 2, 1, 2), 1e-15);
        // At t = 1 the subsample is all of the real data.
        foreach (var (d, n) in new[] { (1, 5), (5, 2), (3, 10) })
            Assert.Equal(Expected(Setting.Replace, d, n, 0.7, 1)[0], Expected(Setting.AccumulateSubsample, d, n, 0.7, 1)[0]);
    }

    [Theory]
    [InlineData(5, 4)]
    [InlineData(5, 5)]
    [InlineData(5, 6)]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    public void Diverges_where_the_inverse_wishart_mean_does_unless_there_is_no_noise(int d, int n)
    {
        foreach (var setting in new[] { Setting.Replace, Setting.Accumulate })
        {
            Assert.All(Expected(setting, d, n, 0.1, 3), v => Assert.Equal(double.PositiveInfinity, v));
            // Without noise only the bias is left: the part of w* outside X's row space.
            Assert.All(Expected(setting, d, n, 0, 3), v => Assert.Equal(Math.Max(d - n, 0), v));
        }
        Assert.Equal(double.PositiveInfinity, Expected(Setting.AccumulateSubsample, d, n, 0.1, 1)[0]);
    }

    [Fact]
    public void Without_noise_a_full_rank_design_recovers_w_star_and_a_wide_one_keeps_a_constant_bias()
    {
        foreach (var setting in Settings.All)
        {
            // The subsample too while it cannot miss a dimension: 10 draws from t copies of 10 rows hit at least ⌈10/t⌉ ≥ 3 rows for t ≤ 4.
            Assert.All(Expected(setting, 3, 10, 0, 4), v => Assert.Equal(0.0, v));
            Assert.Equal(6.0, Expected(setting, 10, 4, 0, 1)[0]);
        }
        Assert.True(Expected(Setting.AccumulateSubsample, 3, 10, 0, 5)[4] > 0);
        Assert.All(Expected(Setting.Replace, 10, 4, 0, 5), v => Assert.Equal(6.0, v));
        Assert.All(Expected(Setting.Accumulate, 10, 4, 0, 5), v => Assert.Equal(6.0, v));
    }

    [Fact]
    public void Accumulate_subsample_is_unknown_after_its_first_fit_when_there_is_noise()
    {
        var values = Expected(Setting.AccumulateSubsample, 3, 10, 1, 4);
        Assert.False(double.IsNaN(values[0]));
        Assert.All(values[1..], v => Assert.True(double.IsNaN(v)));
        Assert.True(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 3, 10, 1, 1));
        Assert.False(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 3, 10, 1, 2));
        Assert.True(RegressionTheory.IsKnown(Setting.Accumulate, 3, 10, 1, 50));
    }

    /// <summary>
    /// Without noise the subsample's fit is known while every earlier one surely spanned X's row space:
    /// d = 3, n = 5 hits at least ⌈5/2⌉ = 3 rows at t = 2, so t = 3 is known, but t = 3 can hit only 2, so
    /// t = 4 is not (the fit of t = 3 may have relabelled X with a ŵ that lost a dimension).
    /// </summary>
    [Fact]
    public void Accumulate_subsample_without_noise_is_known_while_earlier_subsamples_span_the_row_space()
    {
        Assert.True(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 3, 5, 0, 3));
        Assert.False(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 3, 5, 0, 4));
        Assert.True(double.IsNaN(Expected(Setting.AccumulateSubsample, 3, 5, 0, 4)[3]));
        // A wide design: the second subsample may repeat a row and miss part of X's row space.
        Assert.True(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 10, 4, 0, 2));
        Assert.False(RegressionTheory.IsKnown(Setting.AccumulateSubsample, 10, 4, 0, 3));
        // One row: every subsample is that row, every fit Pw*, the bias d − 1 throughout.
        Assert.All(Expected(Setting.AccumulateSubsample, 5, 1, 0, 20), v => Assert.Equal(4.0, v, 1e-12));
    }

    /// <summary>
    /// σ² = 0, d = 3, n = 4, t = 2: 4 draws from 2 copies of 4 rows hit only 2 rows when they take both
    /// copies of 2 of them, C(4, 2) = 6 of the C(8, 4) = 70 draws, and then miss one dimension of w*:
    /// 6/70. For n &lt; d at t = 2 the bias is d − E K with E K = n(1 − P(a row is missed)) and
    /// P(missed) = C(2n − 2, n)/C(2n, n) = (n − 1)/(2(2n − 1)), independently of the engine's draw-by-draw chain.
    /// </summary>
    [Fact]
    public void Accumulate_subsample_without_noise_counts_the_rows_its_subsample_misses()
    {
        Assert.Equal(6.0 / 70, Expected(Setting.AccumulateSubsample, 3, 4, 0, 2)[1], 1e-15);
        const int d = 12;
        for (var n = 1; n <= 10; n++)
        {
            var missed = (n - 1.0) / (2 * (2 * n - 1));
            Assert.Equal(d - n * (1 - missed), Expected(Setting.AccumulateSubsample, d, n, 0, 2)[1], 1e-12);
        }
        // d = 3, n = 5, t = 3: 5 draws from 3 copies of 5 rows hit 2 rows in C(5, 2)·C(6, 5) = 60 of C(15, 5) = 3003 ways
        // (never 1: a row has only 3 copies), and then miss one dimension.
        Assert.Equal(60.0 / 3003, Expected(Setting.AccumulateSubsample, 3, 5, 0, 3)[2], 1e-15);
        // Many rows per generation and few generations: every subsample spans the space.
        Assert.Equal(0.0, Expected(Setting.AccumulateSubsample, 3, 10, 0, 2)[1]);
    }

    /// <summary>Accumulate's noise sums 1/k²: bounded by π²/6 times its first fit's (Gerstgrasser et al. 2024), while Replace's grows linearly.</summary>
    [Fact]
    public void Accumulate_stays_below_pi_squared_over_six_times_the_first_fit()
    {
        var accumulate = Expected(Setting.Accumulate, 10, 100, 1, 10_000);
        var replace = Expected(Setting.Replace, 10, 100, 1, 10_000);
        Assert.Equal(Math.PI * Math.PI / 6, accumulate[^1] / accumulate[0], 1e-4);
        Assert.All(accumulate, v => Assert.True(v < Math.PI * Math.PI / 6 * accumulate[0]));
        Assert.Equal(10_000, replace[^1] / replace[0], 1e-9);
    }

    [Theory]
    [InlineData(Setting.Replace, 3, 10, 1.0)]
    [InlineData(Setting.Accumulate, 3, 10, 1.0)]
    [InlineData(Setting.Replace, 10, 4, 0.5)]
    [InlineData(Setting.Accumulate, 10, 4, 0.5)]
    [InlineData(Setting.AccumulateSubsample, 10, 4, 0.0, 2)]
    [InlineData(Setting.AccumulateSubsample, 3, 4, 0.0, 2)]
    [InlineData(Setting.AccumulateSubsample, 3, 5, 0.0, 3)]
    public void The_weight_error_of_the_reference_loop_agrees(Setting setting, int d, int n, double sigmaSquared, int iterations = 3)
    {
        const int seeds = 3000;
        var chains = Enumerable.Range(0, seeds).Select(seed => ReferenceRegression.Run(setting, d, n, sigmaSquared, iterations, seed, testSize: 0)).ToList();
        AssertAgrees(Expected(setting, d, n, sigmaSquared, iterations), chains.Select(c => c.WeightError).ToList());
    }

    [Fact]
    public void The_test_mse_of_the_reference_loop_agrees_and_the_subsample_starts_as_replace()
    {
        const int seeds = 1500, iterations = 2;
        var replace = Enumerable.Range(0, seeds).Select(seed => ReferenceRegression.Run(Setting.Replace, 3, 10, 1, iterations, seed)).ToList();
        AssertAgrees(Expected(Setting.Replace, 3, 10, 1, iterations), replace.Select(c => c.TestMse).ToList());
        var subsample = Enumerable.Range(0, seeds).Select(seed => ReferenceRegression.Run(Setting.AccumulateSubsample, 3, 10, 1, 1, seed)).ToList();
        AssertAgrees(Expected(Setting.AccumulateSubsample, 3, 10, 1, 1), subsample.Select(c => c.TestMse).ToList());
    }

    /// <summary>Each iteration's mean over seeds within 4.5 standard errors of the expectation (a fixed-seed test, so not flaky).</summary>
    static void AssertAgrees(double[] expected, List<double[]> perSeed)
    {
        for (var t = 1; t <= expected.Length; t++)
        {
            Assert.False(double.IsNaN(expected[t - 1]), $"t = {t} has no exact value to compare with");
            var values = perSeed.Select(v => v[t - 1]).ToList();
            var (mean, se) = (values.Average(), Statistics.StandardError(values));
            Assert.True(Math.Abs(mean - expected[t - 1]) <= 4.5 * se + 1e-12,
                $"t = {t}: mean {mean} ± {se} over {values.Count} seeds, expected {expected[t - 1]}");
        }
    }

    static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }
}
