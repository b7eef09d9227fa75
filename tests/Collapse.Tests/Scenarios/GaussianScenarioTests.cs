using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Points;

namespace Collapse.Tests.Scenarios;

/// <summary>Whole chains of fits, checked against exact theory, a naive refit, each other and themselves.</summary>
public class GaussianScenarioTests
{
    static List<GaussianRow> Run(string device, KernelPath path, GaussianSweepConfig config, GaussianCell cell, int? batch = null)
    {
        using var sweep = new GaussianSweep(TestDevices.Get(device), config, path) { ReplicatesPerBatch = batch };
        return sweep.Rows(cell);
    }

    public static TheoryData<string, KernelPath, GaussianMethod> MethodCases()
    {
        var data = new TheoryData<string, KernelPath, GaussianMethod>();
        foreach (var (device, path) in TestDevices.PathList())
        {
            data.Add(device, path, GaussianMethod.Data);
            data.Add(device, path, GaussianMethod.Wishart);
        }
        return TestDevices.Tagged(data);
    }

    [Theory]
    [MemberData(nameof(MethodCases))]
    public void Replace_matches_the_exact_expectations(string device, KernelPath path, GaussianMethod method)
    {
        // d = 3, n = 10: strong collapse (trace ratio 0.9^t, log det falls by ~1.2 a step), cheap to run.
        const int d = 3, n = 10, t = 6, seeds = 3000;
        var config = new GaussianSweepConfig { Dims = [d], Samples = [n], Seeds = seeds, Iterations = t, Settings = [Setting.Replace], Method = method, Seed = 17 };
        var rows = Run(device, path, config, new GaussianCell(Setting.Replace, d, n));
        foreach (var iteration in new[] { 1, 3, t })
        {
            var at = rows.Where(r => r.Iteration == iteration).ToList();
            var trace = at.Select(r => r.TraceRatio).ToList();
            AssertWithin(GaussianTheory.ExpectedTraceRatio(n, iteration), trace, $"trace ratio at t={iteration}");
            var logDet = at.Select(r => r.LogDetRatio).ToList();
            var expectedLogDet = GaussianTheory.ExpectedLogDetRatio(d, n, iteration);
            var logDetError = Math.Sqrt(GaussianTheory.VarianceLogDetRatio(d, n, iteration) / seeds);
            Assert.InRange(logDet.Average(), expectedLogDet - 4.5 * logDetError, expectedLogDet + 4.5 * logDetError);
            AssertWithin(GaussianTheory.ExpectedSquaredErrorMean(d, n, iteration), at.Select(r => r.SquaredErrorMean).ToList(), $"‖μ‖² at t={iteration}");
        }
        // The det ratio itself is heavy-tailed: check E[det] at t = 1, where its spread is modest.
        var det1 = rows.Where(r => r.Iteration == 1).Select(r => r.DetRatio).ToList();
        AssertWithin(Math.Exp(GaussianTheory.LogExpectedDetRatio(d, n, 1)), det1, "det ratio at t=1");
    }

    public static TheoryData<string, GaussianMethod, int, int> AccumulateTheoryCases() => new()
    {
        { "accumulate", GaussianMethod.Data, 3, 10 },
        { "accumulate", GaussianMethod.Wishart, 3, 10 },
        { "accumulate", GaussianMethod.Data, 5, 6 },
        { "accumulate-subsample", GaussianMethod.Data, 3, 10 },
        { "accumulate-subsample", GaussianMethod.Data, 5, 6 },
    };

    /// <summary>
    /// Accumulate's and Accumulate-Subsample's mean trace ratio and ‖μ_t‖² over many seeds against
    /// <see cref="GaussianTheory.Expectations"/> (exact, no simulation), at every iteration.
    /// </summary>
    [Theory]
    [MemberData(nameof(AccumulateTheoryCases))]
    public void Accumulate_and_subsample_match_the_exact_expectations(string settingName, GaussianMethod method, int d, int n)
    {
        const int t = 8, seeds = 3000;
        var setting = Settings.Parse(settingName);
        var config = new GaussianSweepConfig { Dims = [d], Samples = [n], Seeds = seeds, Iterations = t, Settings = [setting], Method = method, Seed = 23 };
        var rows = Run("cpu", KernelPath.Auto, config, new GaussianCell(setting, d, n));
        var theory = GaussianTheory.Expectations(setting, d, n, t);
        for (var iteration = 1; iteration <= t; iteration++)
        {
            var at = rows.Where(r => r.Iteration == iteration).ToList();
            AssertWithin(theory[iteration - 1].TraceRatio, at.Select(r => r.TraceRatio).ToList(), $"{settingName} {method} trace ratio at t={iteration}");
            AssertWithin(theory[iteration - 1].SquaredErrorMean, at.Select(r => r.SquaredErrorMean).ToList(), $"{settingName} {method} ‖μ‖² at t={iteration}");
        }
    }

    static void AssertWithin(double expected, IReadOnlyCollection<double> values, string what)
    {
        var mean = values.Average();
        var error = Statistics.StandardError(values);
        Assert.True(Math.Abs(mean - expected) <= 4.5 * error, $"{what}: mean {mean} vs exact {expected} (standard error {error})");
    }

    [Theory]
    [InlineData(Setting.Replace)]
    [InlineData(Setting.Accumulate)]
    public void Data_and_wishart_methods_agree_in_distribution(Setting setting)
    {
        const int d = 4, n = 12, t = 5, seeds = 2500;
        var means = new Dictionary<GaussianMethod, (double Trace, double TraceError, double LogDet, double LogDetError)>();
        foreach (var method in new[] { GaussianMethod.Data, GaussianMethod.Wishart })
        {
            var config = new GaussianSweepConfig { Dims = [d], Samples = [n], Seeds = seeds, Iterations = t, Settings = [setting], Method = method, Seed = 5 };
            var last = Run("cpu", KernelPath.Auto, config, new GaussianCell(setting, d, n)).Where(r => r.Iteration == t).ToList();
            var trace = last.Select(r => r.TraceRatio).ToList();
            var logDet = last.Select(r => r.LogDetRatio).ToList();
            means[method] = (trace.Average(), Statistics.StandardError(trace), logDet.Average(), Statistics.StandardError(logDet));
        }
        var (a, b) = (means[GaussianMethod.Data], means[GaussianMethod.Wishart]);
        Assert.True(Math.Abs(a.Trace - b.Trace) <= 4.5 * Math.Sqrt(a.TraceError * a.TraceError + b.TraceError * b.TraceError),
            $"trace ratio: data {a.Trace} vs wishart {b.Trace}");
        Assert.True(Math.Abs(a.LogDet - b.LogDet) <= 4.5 * Math.Sqrt(a.LogDetError * a.LogDetError + b.LogDetError * b.LogDetError),
            $"log det ratio: data {a.LogDet} vs wishart {b.LogDet}");
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Accumulate_by_merging_statistics_equals_refitting_every_point(string device, KernelPath path)
    {
        const int d = 5, n = 16, iterations = 6, replicates = 3;
        var computeDevice = TestDevices.Get(device);
        var kernels = TestDevices.GaussianKernels(device, path);
        using var merged = new GaussianFamily(computeDevice.Accelerator, kernels, d, replicates, 0, 3);
        using var naive = new GaussianFamily(computeDevice.Accelerator, kernels, d, replicates, 0, 3);
        var mergedMetrics = new MetricTable(replicates, merged.Metrics);
        var naiveMetrics = new MetricTable(replicates, naive.Metrics);
        using var accumulation = merged.BeginAccumulation((long)n * iterations);
        var all = new List<double[][][]>();
        for (var t = 1; t <= iterations; t++)
        {
            using var fromMerged = t == 1 ? merged.DrawReal(n) : merged.Sample(n, t);
            using var fromNaive = t == 1 ? naive.DrawReal(n) : naive.Sample(n, t);
            accumulation.AddAndFit(fromMerged);
            merged.Evaluate(mergedMetrics, null);

            // The naive way: concatenate every generation so far and fit all t·n points.
            all.Add(Download(kernels, fromNaive, replicates, d));
            using var union = Upload(computeDevice.Accelerator, all, replicates, d);
            naive.Fit(union);
            naive.Evaluate(naiveMetrics, null);
            for (var r = 0; r < replicates; r++)
                for (var k = 0; k < GaussianMetrics.All.Count; k++)
                {
                    var metric = GaussianMetrics.All[k];
                    var (x, y) = (mergedMetrics[r, metric], naiveMetrics[r, metric]);
                    Assert.True(x == y || Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(y)),
                        $"t={t} replicate {r} {metric}: merged {x} vs refit {y}");
                }
        }
    }

    static double[][][] Download(GaussianKernels kernels, PointsBatch batch, int replicates, int d)
    {
        kernels.Synchronize();
        var host = batch.Points.GetAsArray1D();
        var ld = GaussianShape.StrideOf(d);
        return Enumerable.Range(0, replicates).Select(r => Enumerable.Range(0, batch.Count).Select(p =>
            host.AsSpan((r * batch.Count + p) * ld, d).ToArray()).ToArray()).ToArray();
    }

    static PointsBatch Upload(Accelerator accelerator, List<double[][][]> generations, int replicates, int d)
    {
        var ld = GaussianShape.StrideOf(d);
        var count = generations.Sum(g => g[0].Length);
        var host = new double[(long)replicates * count * ld];
        for (var r = 0; r < replicates; r++)
        {
            var p = 0;
            foreach (var g in generations)
                foreach (var x in g[r])
                {
                    x.CopyTo(host, (r * count + p) * ld);
                    p++;
                }
        }
        var buffer = accelerator.Allocate1D<double>(host.Length);
        buffer.View.CopyFromCPU(host);
        return new PointsBatch(buffer, count);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Singular_fits_report_zero_det_without_failing(string device, KernelPath path)
    {
        foreach (var setting in Settings.All)
        {
            // n = 10 ≤ d: Σ has rank 9, and every later sample stays in the real data's 9-dim affine
            // subspace, so even Accumulate's t·n > d points never recover full rank.
            var config = new GaussianSweepConfig { Dims = [31], Samples = [10], Seeds = 24, Iterations = 12, Settings = [setting] };
            var rows = Run(device, path, config, new GaussianCell(setting, 31, 10));
            foreach (var row in rows)
            {
                Assert.Equal(0.0, row.DetRatio);
                Assert.Equal(double.NegativeInfinity, row.LogDetRatio);
                Assert.True(double.IsFinite(row.TraceRatio) && row.TraceRatio > 0, $"{setting} t={row.Iteration}: trace {row.TraceRatio}");
                Assert.True(double.IsFinite(row.SquaredErrorMean), $"{setting} t={row.Iteration}: ‖μ‖² {row.SquaredErrorMean}");
            }
        }
    }

    [Fact]
    public void Wishart_replace_handles_singular_fits_too()
    {
        var config = new GaussianSweepConfig { Dims = [10], Samples = [10], Seeds = 5, Iterations = 4, Settings = [Setting.Replace], Method = GaussianMethod.Wishart };
        var rows = Run("cpu", KernelPath.Auto, config, new GaussianCell(Setting.Replace, 10, 10));
        Assert.All(rows, r => Assert.Equal(double.NegativeInfinity, r.LogDetRatio));
        Assert.All(rows, r => Assert.True(double.IsFinite(r.TraceRatio) && r.TraceRatio > 0));
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Batching_replicates_differently_gives_identical_rows(string device, KernelPath path)
    {
        foreach (var setting in Settings.All)
        {
            var config = new GaussianSweepConfig { Dims = [7], Samples = [12], Seeds = 5, Iterations = 4, Settings = [setting], Seed = 2 };
            var cell = new GaussianCell(setting, 7, 12);
            var together = Run(device, path, config, cell);
            Assert.Equal(together, Run(device, path, config, cell, batch: 1));
            Assert.Equal(together, Run(device, path, config, cell, batch: 2));
            Assert.Equal(together, Run(device, path, config, cell));
        }
    }

    [Theory]
    [InlineData(GaussianMethod.Data)]
    [InlineData(GaussianMethod.Wishart)]
    public void Simd_and_ilgpu_paths_agree(GaussianMethod method)
    {
        foreach (var setting in Settings.All)
        {
            if (method == GaussianMethod.Wishart && setting == Setting.AccumulateSubsample) continue;
            var config = new GaussianSweepConfig { Dims = [9], Samples = [20], Seeds = 4, Iterations = 5, Settings = [setting], Seed = 8, Method = method };
            var cell = new GaussianCell(setting, 9, 20);
            var simd = Run("cpu", KernelPath.Auto, config, cell);
            var ilgpu = Run("cpu", KernelPath.Ilgpu, config, cell);
            for (var i = 0; i < simd.Count; i++)
            {
                // Normals differ in the last bits of log/sin/cos between the two paths; nothing more.
                Assert.Equal(ilgpu[i].TraceRatio, simd[i].TraceRatio, 1e-4 * ilgpu[i].TraceRatio);
                Assert.Equal(ilgpu[i].LogDetRatio, simd[i].LogDetRatio, 1e-3);
                Assert.Equal(ilgpu[i].SquaredErrorMean, simd[i].SquaredErrorMean, 1e-4 * (1 + ilgpu[i].SquaredErrorMean));
            }
        }
    }
}
