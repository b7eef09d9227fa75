namespace Collapse.Tests.Reports;

public class MixEffectsTests
{
    [Fact]
    public void Every_seed_improving_by_a_known_amount_is_helped_with_that_difference()
    {
        var rows = MixGrid.Build("gaussian", [100], [0, 32, 1000], seeds: 10, baseline: _ => 2.0, effect: (_, s) => s == 32 ? -0.2 : -0.5);
        var effects = MixEffects.Compute(rows);
        Assert.Equal([32, 1000], effects.Select(e => e.NumSynthetic));
        Assert.All(effects, e => Assert.Equal(Effect.Helped, e.Effect));
        var big = effects[1];
        Assert.Equal(100, big.NumReal);
        Assert.Equal(10, big.Seeds);
        Assert.Equal(-0.5, big.Difference, 1e-12);
        Assert.Equal(2.0 + 0.05 * 4.5, big.Baseline, 1e-12);
        Assert.Equal(big.Baseline - 0.5, big.Mean, 1e-12);
        // Differences ±0.01 around −0.5: sd = 0.01·√(10/9), se = sd/√10.
        Assert.Equal(0.01 * Math.Sqrt(10.0 / 9) / Math.Sqrt(10), big.StandardError, 1e-9);
    }

    [Fact]
    public void A_worse_metric_at_every_seed_is_hurt()
    {
        var rows = MixGrid.Build("kde", [1000], [0, 500], seeds: 4, baseline: _ => 0.7, effect: (_, _) => 0.3);
        var effect = Assert.Single(MixEffects.Compute(rows));
        Assert.Equal(Effect.Hurt, effect.Effect);
        Assert.Equal(0.3, effect.Difference, 1e-12);
    }

    [Fact]
    public void Noise_only_is_no_significant_change()
    {
        // Paired differences +0.1, −0.1, …: mean 0, standard error ≈ 0.045.
        var rows = MixGrid.Build("lm", [316], [0, 1000], seeds: 6, baseline: _ => 2.5, effect: (_, _) => 0, jitter: 0.1);
        var effect = Assert.Single(MixEffects.Compute(rows));
        Assert.Equal(Effect.NoSignificantChange, effect.Effect);
        Assert.Equal(0, effect.Difference, 1e-12);
    }

    [Fact]
    public void The_same_noise_around_a_large_enough_shift_is_an_effect_and_z_sets_the_bar()
    {
        // Differences −0.05 ± 0.1 over 6 seeds: se = 0.1·√(6/5)/√6 ≈ 0.0447, so |mean| ≈ 1.12 se.
        var rows = MixGrid.Build("lm", [316], [0, 1000], seeds: 6, baseline: _ => 2.5, effect: (_, _) => -0.05, jitter: 0.1);
        Assert.Equal(Effect.NoSignificantChange, Assert.Single(MixEffects.Compute(rows)).Effect);
        Assert.Equal(Effect.Helped, Assert.Single(MixEffects.Compute(rows, z: 1.0)).Effect);
    }

    [Fact]
    public void One_seed_is_inconclusive_with_no_standard_error()
    {
        var rows = MixGrid.Build("gaussian", [10], [0, 32], seeds: 1, baseline: _ => 9, effect: (_, _) => -3);
        var effect = Assert.Single(MixEffects.Compute(rows));
        Assert.Equal(Effect.Inconclusive, effect.Effect);
        Assert.Equal(1, effect.Seeds);
        Assert.True(double.IsNaN(effect.StandardError));
        Assert.Equal(-3 + 0.01, effect.Difference, 1e-12);
    }

    [Fact]
    public void A_num_real_without_a_baseline_is_left_out_and_only_paired_seeds_count()
    {
        var rows = MixGrid.Build("gaussian", [10, 100], [0, 32], seeds: 4, baseline: _ => 5, effect: (_, _) => -1);
        // num_real = 100 loses its num_synthetic = 0 rows; num_real = 10 loses seeds 2 and 3 at num_synthetic = 32.
        rows.RemoveAll(r => r.NumReal == 100 && r.NumSynthetic == 0 || r.NumReal == 10 && r.NumSynthetic == 32 && r.Seed >= 2);
        var effect = Assert.Single(MixEffects.Compute(rows));
        Assert.Equal(10, effect.NumReal);
        Assert.Equal(2, effect.Seeds);
        Assert.Equal(5 + 0.05 * 0.5, effect.Baseline, 1e-12);
        Assert.Equal(-1, effect.Difference, 1e-12);
    }

    [Fact]
    public void Effects_come_ordered_by_num_real_then_num_synthetic_whatever_the_row_order()
    {
        var rows = MixGrid.Build("gaussian", [1000, 10, 100], [316, 0, 32], seeds: 2, baseline: _ => 5, effect: (_, _) => -1);
        rows.Reverse();
        Assert.Equal([(10, 32), (10, 316), (100, 32), (100, 316), (1000, 32), (1000, 316)],
            MixEffects.Compute(rows).Select(e => (e.NumReal, e.NumSynthetic)));
    }
}
