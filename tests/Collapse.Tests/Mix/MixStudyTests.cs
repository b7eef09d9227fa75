using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Kde;
using Collapse.Engine.Families.Lm;
using Collapse.Engine.Families.Points;
using Collapse.Kernels.Points;

namespace Collapse.Tests.Mix;

/// <summary>
/// The value-of-synthetic-data study: its grid bookkeeping, its num_synthetic = 0 fits against a
/// plain float64 fit of the same real subset, and the two statistical facts the issue names — a
/// generator equal to the truth always helps; a biased one hurts once real data are plentiful.
/// </summary>
public class MixStudyTests
{
    static List<MixRow> RunAll(MixSweepConfig config, int? batch = null, KernelPath path = KernelPath.Auto)
    {
        using var sweep = new MixSweep(TestDevices.Get("cpu"), config, path) { ReplicatesPerBatch = batch };
        return [.. sweep.Cells.SelectMany(c => sweep.Rows(c))];
    }

    static MixSweepConfig Gaussian(int dim, int[] real, int[] synthetic, int seeds, int generatorReal = 2000) => MixSweepConfig.Defaults(MixFamily.Gaussian) with
    {
        Dim = dim, Real = real, Synthetic = synthetic, Seeds = seeds, GeneratorReal = generatorReal, TestSize = 400, Seed = 5,
    };

    [Fact]
    public void Rows_cover_the_grid_once_per_seed_and_do_not_depend_on_batching()
    {
        var config = Gaussian(3, [8, 50, 200], [0, 20, 500], seeds: 5);
        var rows = RunAll(config);
        Assert.Equal(3 * 3 * 5, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.NumReal, r.NumSynthetic, r.Seed)).Distinct().Count());
        Assert.All(rows, r => Assert.Equal("gaussian", r.Family));
        Assert.All(rows, r => Assert.Equal((double)r.NumReal / (r.NumReal + r.NumSynthetic), r.ProportionReal));
        // One seed per batch, two, or all: the same lines.
        Assert.Equal(rows.Select(r => r.ToCsv()), RunAll(config, batch: 1).Select(r => r.ToCsv()));
        Assert.Equal(rows.Select(r => r.ToCsv()), RunAll(config, batch: 2).Select(r => r.ToCsv()));
    }

    [Theory]
    [InlineData(KernelPath.Auto)]
    [InlineData(KernelPath.Ilgpu)]
    public void Gaussian_without_synthetic_data_is_the_plain_fit_of_the_real_subset(KernelPath path)
    {
        const int d = 3, generatorReal = 300, seeds = 3, testSize = 400;
        int[] real = [7, 40, 300];
        var config = Gaussian(d, real, [0, 100], seeds, generatorReal);
        var rows = RunAll(config, path: path).Where(r => r.NumSynthetic == 0).ToList();

        // The seed's real set as the family draws it, in the study's documented order.
        var accelerator = TestDevices.Get("cpu").Accelerator;
        using var family = new GaussianFamily(accelerator, new GaussianKernels(accelerator, path), d, seeds, 0, config.Seed);
        using var drawn = family.DrawReal(generatorReal);
        var all = drawn.Points.GetAsArray1D();
        var stride = GaussianShape.StrideOf(d);
        foreach (var row in rows)
        {
            var r = row.Seed;
            var order = HostSampling.Permutation(new RandomStream(config.Seed, (uint)r, 0, RandomStreams.MixRealOrder), generatorReal);
            var points = order.Take(row.NumReal).Select(i => Enumerable.Range(0, d).Select(j => all[((long)r * generatorReal + i) * stride + j]).ToArray()).ToArray();
            var mean = ReferenceGaussian.Mean(points);
            var scatter = ReferenceGaussian.Scatter(points);
            var covariance = new double[d, d];
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) covariance[i, j] = scatter[i, j] / points.Length;
            var test = new RandomStream(config.Seed, (uint)r, 0, RandomStreams.TestData);
            var testPoints = Enumerable.Range(0, testSize).Select(p => Enumerable.Range(0, d).Select(j => (double)Philox.Normal(test, (ulong)(p * d + j))).ToArray()).ToArray();
            var (nll, expected) = PlainLikelihoods(mean, covariance, testPoints);
            var extra = row.Extra.Select(Collapse.Engine.Results.CsvNumber.Parse).ToArray();
            Assert.Equal(nll, row.TestMetric, 1e-9 * Math.Abs(nll));
            Assert.Equal(expected, extra[1], 1e-9 * Math.Abs(expected));
            Assert.Equal(mean.Sum(m => m * m), extra[2], 1e-10);
            Assert.Equal(Enumerable.Range(0, d).Sum(i => covariance[i, i]) / d, extra[5], 1e-10);
        }
    }

    /// <summary>NLL of test points under N(μ, Σ) and its expectation under N(0, I), by an explicit Gauss–Jordan inverse (not the study's Cholesky).</summary>
    static (double Nll, double Expected) PlainLikelihoods(double[] mean, double[,] covariance, double[][] test)
    {
        var d = mean.Length;
        var a = (double[,])covariance.Clone();
        var inverse = new double[d, d];
        for (var i = 0; i < d; i++) inverse[i, i] = 1;
        for (var c = 0; c < d; c++)
        {
            var pivot = Enumerable.Range(c, d - c).MaxBy(i => Math.Abs(a[i, c]));
            for (var j = 0; j < d; j++)
            {
                (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
                (inverse[c, j], inverse[pivot, j]) = (inverse[pivot, j], inverse[c, j]);
            }
            var p = a[c, c];
            for (var j = 0; j < d; j++) { a[c, j] /= p; inverse[c, j] /= p; }
            for (var i = 0; i < d; i++)
            {
                if (i == c) continue;
                var f = a[i, c];
                for (var j = 0; j < d; j++) { a[i, j] -= f * a[c, j]; inverse[i, j] -= f * inverse[c, j]; }
            }
        }
        double Quadratic(double[] x)
        {
            var q = 0.0;
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) q += x[i] * inverse[i, j] * x[j];
            return q;
        }
        var constant = d * Math.Log(2 * Math.PI) + ReferenceGaussian.LogDet(covariance);
        var nll = test.Average(x => 0.5 * (constant + Quadratic([.. x.Select((v, j) => v - mean[j])])));
        var trace = Enumerable.Range(0, d).Sum(i => inverse[i, i]);
        return (nll, 0.5 * (constant + trace + Quadratic(mean)));
    }

    [Fact]
    public void Kde_without_synthetic_data_is_the_plain_fit_of_the_real_subset()
    {
        const int generatorReal = 400, seeds = 2, testSize = 60;
        var h = Bandwidth.Of(0.2);
        var config = MixSweepConfig.Defaults(MixFamily.Kde) with
        {
            Dataset = ToyDataset.Moons, Bandwidth = h, Real = [5, 50, 400], Synthetic = [0, 30], Seeds = seeds,
            GeneratorReal = generatorReal, TestSize = testSize, Seed = 9,
        };
        var rows = RunAll(config).Where(r => r.NumSynthetic == 0).ToList();
        Assert.Equal(3 * seeds, rows.Count);
        var accelerator = TestDevices.Get("cpu").Accelerator;
        var kernels = new KdeKernels(accelerator);
        using var family = new KdeFamily(accelerator, kernels, new PointKernels(accelerator, new RandomKernels(accelerator), kernels.UsesSimd),
            ToyDataset.Moons, h, seeds, 0, config.Seed, testSize);
        using var drawn = family.DrawReal(generatorReal);
        var all = drawn.Points.GetAsArray1D();
        var testAll = family.TestPoints();
        foreach (var row in rows)
        {
            var r = row.Seed;
            var order = HostSampling.Permutation(new RandomStream(config.Seed, (uint)r, 0, RandomStreams.MixRealOrder), generatorReal);
            var fitted = order.Take(row.NumReal).Select(i => new[] { all[((long)r * generatorReal + i) * 2], all[((long)r * generatorReal + i) * 2 + 1] }).ToArray();
            var test = Enumerable.Range(0, testSize).Select(p => new[] { testAll[((long)r * testSize + p) * 2], testAll[((long)r * testSize + p) * 2 + 1] }).ToArray();
            var expected = ReferenceKde.MeanNegativeLogLikelihood(test, fitted, 0.2);
            Assert.Equal(expected, row.TestMetric, 1e-6 * Math.Abs(expected));
            Assert.Equal(["moons", "0.2"], row.Extra);
        }
    }

    [Fact]
    public void A_generator_equal_to_the_truth_always_helps()
    {
        // Synthetic points from N(0, I) are as good as real ones: every added count lowers the test NLL.
        var config = Gaussian(3, [10, 100], [0, 30, 300, 3000], seeds: 60) with { Generator = MixGenerator.Truth };
        var rows = RunAll(config);
        var effects = MixEffects.Compute(rows);
        Assert.Equal(2 * 3, effects.Count);
        Assert.All(effects, e => Assert.Equal(Effect.Helped, e.Effect));
        foreach (var real in rows.GroupBy(r => r.NumReal))
        {
            var means = real.GroupBy(r => r.NumSynthetic).OrderBy(g => g.Key).Select(g => g.Average(r => r.TestMetric)).ToList();
            for (var k = 1; k < means.Count; k++) Assert.True(means[k] < means[k - 1], $"num_real {real.Key}: mean test NLL {means[k]} after {means[k - 1]}");
        }
    }

    [Fact]
    public void A_biased_generator_hurts_once_real_data_are_plentiful()
    {
        // The truth moved by 1 along one axis: with 10 real points the extra data still pays for the bias;
        // with 3,000 the bias is all that synthetic data adds.
        var config = Gaussian(3, [10, 3000], [0, 3000], seeds: 30, generatorReal: 3000) with { Generator = MixGenerator.Truth, GeneratorShift = 1.0 };
        var effects = MixEffects.Compute(RunAll(config));
        Assert.Equal(Effect.Helped, effects.Single(e => e.NumReal == 10).Effect);
        var plentiful = effects.Single(e => e.NumReal == 3000);
        Assert.Equal(Effect.Hurt, plentiful.Effect);
        // Half the fit's points are shifted by 1: the mean is off by 1/2, costing ½·(1/2)² nats in expectation.
        Assert.InRange(plentiful.Difference, 0.125 - 0.03, 0.125 + 0.03);
    }

    [Fact]
    public void The_fitted_generator_helps_scarce_real_data_and_hurts_when_the_student_sees_all_of_its_real_data()
    {
        // KDE, h = 0.1 on moons: 10 real points leave the test points far from any kernel; adding samples of
        // a KDE fitted to 2,000 real points fixes that. With all 2,000 real points, samples only blur (h·√2).
        var config = MixSweepConfig.Defaults(MixFamily.Kde) with { Real = [10, 2000], Synthetic = [0, 2000], Seeds = 8, GeneratorReal = 2000, TestSize = 200 };
        var effects = MixEffects.Compute(RunAll(config));
        Assert.Equal(Effect.Helped, effects.Single(e => e.NumReal == 10).Effect);
        Assert.Equal(Effect.Hurt, effects.Single(e => e.NumReal == 2000).Effect);
    }

    [Fact]
    public void The_language_model_trains_one_epoch_over_real_plus_synthetic_documents()
    {
        var corpus = LmCorpus.Names();
        var config = MixSweepConfig.Defaults(MixFamily.Lm, corpus) with { Real = [40, 100], Synthetic = [0, 64], Seeds = 2, GeneratorReal = 300 };
        var rows = RunAll(config);
        Assert.Equal(2 * 2 * 2, rows.Count);
        var batch = config.Preset!.Batch;
        Assert.All(rows, r =>
        {
            Assert.Equal("tiny", r.Extra[0]);
            Assert.Equal((r.NumReal + r.NumSynthetic + batch - 1) / batch, int.Parse(r.Extra[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(r.TestMetric, 1.0, Math.Log(corpus.VocabularySize) + 0.5);
        });
        // Seeds train different models.
        Assert.NotEqual(rows.Single(r => r is { NumReal: 100, NumSynthetic: 64, Seed: 0 }).TestMetric, rows.Single(r => r is { NumReal: 100, NumSynthetic: 64, Seed: 1 }).TestMetric);
    }

    [Fact]
    public void A_fine_tuning_mix_starts_the_generator_and_every_fit_from_the_base()
    {
        var corpus = LmCorpus.Names();
        var scratch = MixSweepConfig.Defaults(MixFamily.Lm, corpus) with { Real = [40], Synthetic = [0, 64], Seeds = 2, GeneratorReal = 300 };
        var finetune = scratch with { Regime = LmRegime.Finetune, BaseSteps = 200 };
        double Loss(IReadOnlyList<MixRow> rows, int synthetic) => rows.Where(r => r.NumSynthetic == synthetic).Average(r => r.TestMetric);
        var (fromScratch, fromBase) = (RunAll(scratch), RunAll(finetune));
        // Two steps on 40 names barely move random weights (≈ ln 27 = 3.30); from a base 200 steps into the words they start lower.
        Assert.True(Loss(fromBase, 0) < Loss(fromScratch, 0) - 0.2, $"num_synthetic 0: from the base {Loss(fromBase, 0)}, from scratch {Loss(fromScratch, 0)}");
        Assert.True(Loss(fromBase, 64) < Loss(fromScratch, 64) - 0.2, $"num_synthetic 64: from the base {Loss(fromBase, 64)}, from scratch {Loss(fromScratch, 64)}");
        Assert.Throws<Collapse.Kernels.Validation.InvalidParameterException>(() => (MixSweepConfig.Defaults(MixFamily.Gaussian) with { Regime = LmRegime.Finetune }).Validate());
    }

    [Fact]
    public void Likelihoods_of_a_singular_fit_are_infinite()
    {
        double[] covariance = [1, 1, 1, 1];
        Assert.Equal((double.PositiveInfinity, double.PositiveInfinity),
            Collapse.Engine.Mix.GaussianMixModels.Likelihoods([0, 0], covariance, [0.5, -0.5], 2));
    }
}
