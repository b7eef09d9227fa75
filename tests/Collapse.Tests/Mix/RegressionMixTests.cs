namespace Collapse.Tests.Mix;

/// <summary>
/// The mix study for linear regression: its bookkeeping, num_synthetic = 0 against the exact theory of
/// a least-squares fit to num_real fresh rows, and what synthetic records from a fitted generator do:
/// they rescue scarce real data, and once the student sees every real record the generator was fitted
/// to they add only noise, by an amount the fit's algebra gives.
/// </summary>
public class RegressionMixTests
{
    static List<MixRow> RunAll(MixSweepConfig config, int? batch = null, KernelPath path = KernelPath.Auto)
    {
        using var sweep = new MixSweep(TestDevices.Get("cpu"), config, path) { ReplicatesPerBatch = batch };
        return [.. sweep.Cells.SelectMany(c => sweep.Rows(c))];
    }

    static MixSweepConfig Regression(int dim, int[] real, int[] synthetic, int seeds, int generatorReal) => MixSweepConfig.Defaults(MixFamily.Regression) with
    {
        Dim = dim, Real = real, Synthetic = synthetic, Seeds = seeds, GeneratorReal = generatorReal, TestSize = 200, Seed = 3,
    };

    [Fact]
    public void Rows_cover_the_grid_once_per_seed_on_both_paths_and_do_not_depend_on_batching()
    {
        var config = Regression(4, [6, 40], [0, 30, 300], seeds: 5, generatorReal: 40);
        var rows = RunAll(config);
        Assert.Equal(2 * 3 * 5, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.NumReal, r.NumSynthetic, r.Seed)).Distinct().Count());
        Assert.All(rows, r => Assert.Equal(["4", "1"], r.Extra.Take(2)));
        Assert.Equal(rows.Select(r => r.ToCsv()), RunAll(config, batch: 2).Select(r => r.ToCsv()));
        var ilgpu = RunAll(config, path: KernelPath.Ilgpu);
        for (var i = 0; i < rows.Count; i++)
            Assert.True(Math.Abs(rows[i].TestMetric - ilgpu[i].TestMetric) <= 1e-9 * Math.Max(1, rows[i].TestMetric), $"{rows[i].ToCsv()} vs {ilgpu[i].ToCsv()}");
    }

    [Fact]
    public void Without_synthetic_data_the_error_is_that_of_a_least_squares_fit_to_the_real_rows()
    {
        // Fresh Gaussian rows each seed: E‖ŵ − w*‖² = σ²·d/(n − d − 1), the inverse-Wishart mean.
        const int d = 3, seeds = 1500;
        var rows = RunAll(Regression(d, [12, 40], [0], seeds, generatorReal: 40));
        foreach (var n in new[] { 12, 40 })
        {
            var errors = rows.Where(r => r.NumReal == n).Select(r => double.Parse(r.Extra[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            var (mean, se) = (errors.Average(), Statistics.StandardError(errors));
            var expected = 1.0 * d / (n - d - 1);
            Assert.True(Math.Abs(mean - expected) <= 4.5 * se, $"n={n}: ‖ŵ − w*‖² {mean:G4} ± {se:G2}, exact {expected:G4}");
        }
    }

    [Fact]
    public void A_fitted_generator_rescues_scarce_real_data_and_only_adds_noise_once_the_student_has_all_of_it()
    {
        const int d = 5, generatorReal = 1000, synthetic = 1000;
        var rows = RunAll(Regression(d, [8, generatorReal], [0, synthetic], seeds: 60, generatorReal));
        var effects = MixEffects.Compute(rows);
        Assert.Equal(Effect.Helped, effects.Single(e => e.NumReal == 8).Effect);
        var full = effects.Single(e => e.NumReal == generatorReal);
        Assert.Equal(Effect.Hurt, full.Effect);
        // With every real row, the synthetic labels x·ŵ_g + σε carry no new signal (ŵ_g is the real-only fit itself): the
        // combined fit is ŵ_g plus (A + B)⁻¹Bᵀε, whose expected squared norm is σ²·tr((A + B)⁻²B) ≈ σ²·d·M/(G + M)².
        var expected = 1.0 * d * synthetic / Math.Pow(generatorReal + synthetic, 2);
        Assert.InRange(full.Difference, 0.7 * expected, 1.3 * expected);
    }
}
