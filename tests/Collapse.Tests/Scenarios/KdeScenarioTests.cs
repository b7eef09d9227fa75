using Collapse.Engine.Families.Kde;
using Collapse.Kernels.Points;

namespace Collapse.Tests.Scenarios;

/// <summary>Whole KDE chains: every iteration's score against the float64 reference, the data each setting fits, batching, and the paper's contrast.</summary>
public class KdeScenarioTests
{
    static KdeFamily Family(string device, KernelPath path, ToyDataset dataset, Bandwidth h, int replicates, int testSize = 40)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var kernels = new KdeKernels(accelerator, path);
        var points = new PointKernels(accelerator, new Kernels.Random.RandomKernels(accelerator), kernels.UsesSimd);
        return new KdeFamily(accelerator, kernels, points, dataset, h, replicates, firstReplicate: 3, seed: 11, testSize);
    }

    static double[][] Replicate(double[] all, int r, int count, int dim) =>
        Enumerable.Range(0, count).Select(p => all.AsSpan((r * count + p) * dim, dim).ToArray()).ToArray();

    public static TheoryData<string, KernelPath, Setting, string, ToyDataset> Chains()
    {
        var data = new TheoryData<string, KernelPath, Setting, string, ToyDataset>();
        foreach (var (device, path) in TestDevices.PathList())
            foreach (var setting in Settings.All)
            {
                data.Add(device, path, setting, "0.1", ToyDataset.Moons);
                data.Add(device, path, setting, "scott", ToyDataset.SwissRoll);
            }
        return TestDevices.Tagged(data);
    }

    /// <summary>
    /// Every iteration's NLL equals the reference's on the family's own fitted points. Under
    /// Accumulate with a fixed h the family adds only the newest generation to running sums; with
    /// scott's rule h changes with the pool and it rescores everything: both must equal a full rescoring.
    /// </summary>
    [Theory]
    [MemberData(nameof(Chains))]
    public void Every_iterations_nll_equals_the_reference_on_the_fitted_points(string device, KernelPath path, Setting setting,
        string bandwidth, ToyDataset dataset)
    {
        const int replicates = 2, n = 12, iterations = 5, testSize = 40;
        Bandwidth.TryParse(bandwidth, out var h);
        using var family = Family(device, path, dataset, h, replicates, testSize);
        var dim = family.Dim;
        var test = family.TestPoints();
        var checkedIterations = 0;
        ScenarioRunner.Run(setting, family, n, iterations, chain =>
        {
            var t = chain.Iteration;
            var fitted = family.FittedPoints();
            var m = fitted.Length / (replicates * dim);
            Assert.Equal(setting == Setting.Accumulate ? t * n : n, m);
            Assert.Equal(h.Value(m, dim), family.CurrentBandwidth);
            for (var r = 0; r < replicates; r++)
            {
                var expected = ReferenceKde.MeanNegativeLogLikelihood(Replicate(test, r, testSize, dim), Replicate(fitted, r, m, dim), family.CurrentBandwidth);
                Assert.Equal(expected, chain.Metrics[r, KdeFamily.NllTest], 1e-9 * Math.Max(1, Math.Abs(expected)));
            }
            checkedIterations++;
        }, TestContext.Current.CancellationToken);
        Assert.Equal(iterations, checkedIterations);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Accumulate_fits_the_real_data_and_every_generation_and_subsample_draws_from_them(string device, KernelPath path)
    {
        const int replicates = 2, n = 9, iterations = 4;
        foreach (var setting in new[] { Setting.Accumulate, Setting.AccumulateSubsample })
        {
            using var family = Family(device, path, ToyDataset.Blobs, Bandwidth.Of(0.5), replicates);
            // Generation t + 1 is what the model of iteration t samples: a pure function of (model, seed, iteration).
            var generations = new List<double[]>();
            using (var real = family.DrawReal(n)) generations.Add(Download(real));
            ScenarioRunner.Run(setting, family, n, iterations, chain =>
            {
                var fitted = family.FittedPoints();
                for (var r = 0; r < replicates; r++)
                {
                    var pool = generations.SelectMany(g => Replicate(g, r, n, 2)).Select(Key).ToList();
                    var model = Replicate(fitted, r, fitted.Length / (replicates * 2), 2).Select(Key).ToList();
                    if (setting == Setting.Accumulate) Assert.Equal(pool, model);
                    else
                    {
                        Assert.Equal(n, model.Count);
                        Assert.Equal(n, model.Distinct().Count());
                        Assert.All(model, p => Assert.Contains(p, pool));
                    }
                }
                // The chain's next generation is what the model of iteration t samples with t + 1's streams; check it is that.
                using var again = family.Sample(n, chain.Iteration + 1);
                Assert.Equal(Download(again), Download(chain.NextGeneration!));
                generations.Add(Download(chain.NextGeneration!));
            }, TestContext.Current.CancellationToken, sampleAfterLast: true);
        }

        static string Key(double[] p) => string.Join(',', p.Select(x => x.ToString("R")));
        static double[] Download(Engine.Families.Points.PointsBatch batch) => batch.Points.GetAsArray1D();
    }

    static KdeSweepConfig SmallConfig(Setting setting) => new()
    {
        Datasets = [ToyDataset.Circles], Bandwidths = [Bandwidth.Of(0.5)], Samples = [15], Seeds = 5, Iterations = 4,
        Settings = [setting], TestSize = 30, Seed = 4,
    };

    [Fact]
    public void Rows_do_not_depend_on_how_seeds_are_batched()
    {
        foreach (var setting in Settings.All)
        {
            var config = SmallConfig(setting);
            var cell = config.Cells().Single();
            using var all = new KdeSweep(TestDevices.Get("cpu"), config);
            using var one = new KdeSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = 1 };
            using var two = new KdeSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = 2 };
            var expected = all.Rows(cell, null, TestContext.Current.CancellationToken);
            Assert.Equal(expected, one.Rows(cell, null, TestContext.Current.CancellationToken));
            Assert.Equal(expected, two.Rows(cell, null, TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public void Simd_and_ilgpu_paths_agree()
    {
        foreach (var setting in Settings.All)
        {
            var config = SmallConfig(setting);
            var cell = config.Cells().Single();
            using var simd = new KdeSweep(TestDevices.Get("cpu"), config);
            using var ilgpu = new KdeSweep(TestDevices.Get("cpu"), config, KernelPath.Ilgpu);
            var (a, b) = (simd.Rows(cell, null, TestContext.Current.CancellationToken), ilgpu.Rows(cell, null, TestContext.Current.CancellationToken));
            Assert.Equal(a.Count, b.Count);
            for (var i = 0; i < a.Count; i++) Assert.Equal(a[i].NllTest, b[i].NllTest, 1e-9 * Math.Max(1, Math.Abs(a[i].NllTest)));
        }
    }

    /// <summary>
    /// The paper's contrast, on a small fixed-seed grid (blobs, h = 0.1, n = 100, 10 seeds, 15
    /// iterations): refitting on the newest samples alone (Replace) degrades the test NLL several-fold,
    /// while keeping the real data in the pool (Accumulate) does not let it grow.
    /// </summary>
    [Fact]
    public void Replace_degrades_the_test_nll_while_accumulate_does_not()
    {
        double Mean(List<KdeRow> rows, int t) => rows.Where(r => r.Iteration == t).Average(r => r.NllTest);
        var results = new Dictionary<Setting, List<KdeRow>>();
        foreach (var setting in new[] { Setting.Replace, Setting.Accumulate })
        {
            var config = new KdeSweepConfig
            {
                Datasets = [ToyDataset.Blobs], Bandwidths = [Bandwidth.Of(0.1)], Samples = [100], Seeds = 10, Iterations = 15,
                Settings = [setting], Seed = 1,
            };
            using var sweep = new KdeSweep(TestDevices.Get("cpu"), config);
            results[setting] = sweep.Rows(config.Cells().Single(), null, TestContext.Current.CancellationToken);
        }
        var (replace, accumulate) = (results[Setting.Replace], results[Setting.Accumulate]);
        Assert.Equal(Mean(replace, 1), Mean(accumulate, 1), 1e-12); // iteration 1 is the same fit on the same real data
        Assert.True(Mean(replace, 15) > 2 * Mean(replace, 1), $"replace: {Mean(replace, 1)} → {Mean(replace, 15)}");
        Assert.True(Mean(accumulate, 15) < 1.1 * Mean(accumulate, 1), $"accumulate: {Mean(accumulate, 1)} → {Mean(accumulate, 15)}");
    }
}
