using Collapse.Engine.Families.Points;
using Collapse.Engine.Families.Regression;
using Collapse.Kernels.Regression;

namespace Collapse.Tests.Regression;

/// <summary>
/// The regression family's fits checked by what defines them, not by a second copy of the method:
/// a pseudo-inverse fit solves the normal equations Aᵀ(y − Aŵ) = 0 and lies in A's row space (the
/// minimum-norm solution), A being the rows the fit saw (with repeats, for a subsample). The row
/// space comes from modified Gram–Schmidt on the host, independent of the kernels' pivoted Cholesky.
/// </summary>
public class RegressionFamilyTests
{
    const uint Seed = 7;

    static RegressionFamily Family(KernelPath path, int d, int n, double noiseVariance, int replicates, out PointBuffers buffers)
    {
        var device = TestDevices.Get("cpu");
        buffers = new PointBuffers(device.Accelerator);
        return new RegressionFamily(new RegressionKernels(device.Accelerator, path), buffers, d, n, noiseVariance, 200, replicates, 0, Seed);
    }

    public static TheoryData<int, int, KernelPath> Shapes()
    {
        var data = new TheoryData<int, int, KernelPath>();
        foreach (var path in new[] { KernelPath.Auto, KernelPath.Ilgpu })
            foreach (var (d, n) in new[] { (3, 10), (10, 10), (10, 4), (33, 9), (17, 60), (1, 1) })
                data.Add(d, n, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_fit_to_whole_generations_is_the_minimum_norm_least_squares_solution(int d, int n, KernelPath path)
    {
        using var family = Family(path, d, n, 1.0, 3, out var buffers);
        using var _ = buffers;
        var (design, _) = family.HostProblem();
        using (var real = family.DrawReal(n))
        {
            family.Fit(real);
            AssertMinimumNorm(design, Enumerable.Range(0, n).ToArray(), real.Labels.GetAsArray1D(), family, d, n, "real data");
        }
        // Accumulate: two stacked generations are X twice; its fit must solve their normal equations.
        using var accumulation = family.BeginAccumulation(2L * n);
        using var first = family.DrawReal(n);
        accumulation.AddAndFit(first);
        using var second = family.Sample(n, 2);
        var labels = first.Labels.GetAsArray1D();
        var next = second.Labels.GetAsArray1D();
        accumulation.AddAndFit(second);
        var rows = Enumerable.Range(0, 2 * n).Select(i => i % n).ToArray();
        var stacked = new double[3 * 2 * n];
        for (var r = 0; r < 3; r++)
        {
            Array.Copy(labels, r * n, stacked, r * 2 * n, n);
            Array.Copy(next, r * n, stacked, r * 2 * n + n, n);
        }
        AssertMinimumNorm(design, rows, stacked, family, d, n, "two accumulated generations");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_subsample_fit_with_repeated_rows_is_the_minimum_norm_least_squares_solution(int d, int n, KernelPath path)
    {
        using var family = Family(path, d, n, 0.5, 3, out var buffers);
        using var _ = buffers;
        var (design, _) = family.HostProblem();
        using var pool = family.CreatePool(3L * n);
        using (var real = family.DrawReal(n))
        {
            pool.Add(real);
            family.Fit(real);
        }
        for (var t = 2; t <= 3; t++)
            using (var sample = family.Sample(n, t))
                pool.Add(sample);
        using var subsample = pool.Subsample(n, 3);
        family.Fit(subsample);
        var rowOf = subsample.RowOf!.GetAsArray1D();
        var labels = subsample.Labels.GetAsArray1D();
        for (var r = 0; r < 3; r++)
        {
            var rows = rowOf.AsSpan(r * n, n).ToArray();
            Assert.All(rows, i => Assert.InRange(i, 0, n - 1));
            AssertMinimumNorm(design, rows, labels.AsSpan(r * n, n).ToArray(), family, d, n, $"subsample of replicate {r}", only: r);
        }
    }

    [Theory]
    [InlineData(3, 10)]
    [InlineData(10, 11)]
    [InlineData(2, 2)]
    public void Noiseless_labels_are_fitted_exactly_under_replace_and_accumulate(int d, int n)
    {
        // Not Accumulate-Subsample: a subsample with fewer than d distinct rows fits only w*'s projection on their span.
        var config = new RegressionSweepConfig
        {
            Dims = [d], Samples = [n], NoiseVariances = [0.0], Seeds = 4, Iterations = 6, TestSize = 100, Settings = [Setting.Replace, Setting.Accumulate],
        };
        using var sweep = new RegressionSweep(TestDevices.Get("cpu"), config);
        foreach (var cell in config.Cells())
            foreach (var row in sweep.Rows(cell, cancellation: TestContext.Current.CancellationToken))
            {
                // n ≥ d rows of a Gaussian design span every direction: σ = 0 leaves w* a fixed point of every fit.
                Assert.True(row.WeightError < 1e-18, $"{cell} seed {row.Seed} t={row.Iteration}: ‖ŵ − w*‖² = {row.WeightError:G3}");
                Assert.True(row.TestMse < 1e-18, $"{cell} seed {row.Seed} t={row.Iteration}: test MSE {row.TestMse:G3}");
            }
    }

    [Fact]
    public void The_test_mse_is_the_mean_squared_error_over_the_test_points()
    {
        // Whatever the fit, the test MSE is δᵀ G_test δ with G_test = X_testᵀX_test/m: check that G_test is a Gram of m normal rows
        // (symmetric, positive semi-definite, mean diagonal near 1) and that the metric is its quadratic form of δ.
        using var family = Family(KernelPath.Auto, 4, 12, 1.0, 2, out var buffers);
        using var _ = buffers;
        using (var real = family.DrawReal(12)) family.Fit(real);
        var (_, gram) = family.HostProblem();
        var (fitted, truth) = family.HostWeights();
        var metrics = new MetricTable(2, family.Metrics);
        family.Evaluate(metrics, null);
        for (var r = 0; r < 2; r++)
        {
            var delta = Enumerable.Range(0, 4).Select(k => fitted[r * 4 + k] - truth[r * 4 + k]).ToArray();
            var quadratic = 0.0;
            for (var i = 0; i < 4; i++)
                for (var j = 0; j < 4; j++)
                {
                    Assert.Equal(gram[(r * 4 + i) * 4 + j], gram[(r * 4 + j) * 4 + i], 12);
                    quadratic += delta[i] * gram[(r * 4 + i) * 4 + j] * delta[j];
                }
            Assert.InRange(Enumerable.Range(0, 4).Average(i => gram[(r * 4 + i) * 4 + i]), 0.75, 1.25);
            Assert.Equal(quadratic, metrics[r, RegressionMetrics.TestMse], 1e-12 * Math.Max(1, quadratic));
            Assert.Equal(delta.Sum(x => x * x), metrics[r, RegressionMetrics.WeightError], 1e-12);
        }
    }

    [Fact]
    public void The_cpu_simd_path_and_the_ilgpu_kernels_agree()
    {
        var config = new RegressionSweepConfig { Dims = [3, 12], Samples = [8, 40], NoiseVariances = [1.0], Seeds = 3, Iterations = 5, TestSize = 64 };
        using var simd = new RegressionSweep(TestDevices.Get("cpu"), config, KernelPath.Auto);
        using var ilgpu = new RegressionSweep(TestDevices.Get("cpu"), config, KernelPath.Ilgpu);
        foreach (var cell in config.Cells())
        {
            var a = simd.Rows(cell, cancellation: TestContext.Current.CancellationToken);
            var b = ilgpu.Rows(cell, cancellation: TestContext.Current.CancellationToken);
            Assert.Equal(a.Count, b.Count);
            for (var i = 0; i < a.Count; i++)
            {
                // Same random numbers; the Gram and factorization sum in another order, so agreement is to rounding, amplified by the design's conditioning.
                Assert.True(Math.Abs(a[i].WeightError - b[i].WeightError) <= 1e-8 * Math.Max(1, a[i].WeightError),
                    $"{cell} seed {a[i].Seed} t={a[i].Iteration}: {a[i].WeightError:R} vs {b[i].WeightError:R}");
                Assert.True(Math.Abs(a[i].TestMse - b[i].TestMse) <= 1e-8 * Math.Max(1, a[i].TestMse), $"{cell} seed {a[i].Seed} t={a[i].Iteration}");
            }
        }
    }

    [Fact]
    public void Rows_do_not_depend_on_how_seeds_are_batched()
    {
        var config = new RegressionSweepConfig { Dims = [5], Samples = [6, 20], NoiseVariances = [0.1, 10], Seeds = 5, Iterations = 4, TestSize = 50 };
        using var whole = new RegressionSweep(TestDevices.Get("cpu"), config);
        using var pairs = new RegressionSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = 2 };
        foreach (var cell in config.Cells())
            Assert.Equal(whole.RunCell(cell, null, TestContext.Current.CancellationToken), pairs.RunCell(cell, null, TestContext.Current.CancellationToken));
    }

    public static TheoryData<string> Backends() => TestDevices.Present();

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_grouped_factorization_gives_the_sequential_fits(string device)
    {
        // Accumulate-Subsample refactors a new Gram every iteration, with repeated rows (rank below d) and n < d.
        foreach (var (d, n) in new[] { (3, 10), (12, 8), (40, 60) })
        {
            var runs = new[] { false, true }.Select(grouped =>
            {
                var accelerator = TestDevices.Get(device).Accelerator;
                using var buffers = new PointBuffers(accelerator);
                var kernels = new RegressionKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = grouped, FactorGroupSize = Math.Min(32, accelerator.MaxNumThreadsPerGroup) };
                using var family = new RegressionFamily(kernels, buffers, d, n, 0.5, 100, 3, 0, Seed);
                var errors = new List<double>();
                ScenarioRunner.Run(Setting.AccumulateSubsample, family, n, 5, chain =>
                {
                    for (var r = 0; r < family.Replicates; r++) errors.Add(chain.Metrics[r, RegressionMetrics.WeightError]);
                }, TestContext.Current.CancellationToken);
                return errors;
            }).ToList();
            for (var i = 0; i < runs[0].Count; i++)
                Assert.True(Math.Abs(runs[0][i] - runs[1][i]) <= 1e-9 * Math.Max(1, runs[0][i]), $"d={d} n={n} value {i}: {runs[0][i]:R} against {runs[1][i]:R}");
        }
    }

    [Fact]
    public void A_generation_must_label_the_whole_design()
    {
        using var family = Family(KernelPath.Auto, 3, 10, 1.0, 1, out var buffers);
        using var _ = buffers;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => family.DrawReal(5));
        Assert.Contains("10 rows", e.Message);
    }

    /// <summary>
    /// Asserts each replicate's fit ŵ solves Aᵀ(y − Aŵ) = 0 and lies in A's row space, A the design rows
    /// <paramref name="rows"/> (per replicate the same list) and y the labels, [replicate][record].
    /// </summary>
    static void AssertMinimumNorm(double[] design, int[] rows, double[] labels, RegressionFamily family, int d, int n, string what, int? only = null)
    {
        var (fitted, _) = family.HostWeights();
        var m = rows.Length;
        // First against the float64 reference's minimum-norm solution (pivoted Householder QR, no normal equations).
        foreach (var r in only is int o ? [o] : Enumerable.Range(0, family.Replicates))
        {
            var a = new double[m][];
            for (var q = 0; q < m; q++) a[q] = design.AsSpan((r * n + rows[q]) * d, d).ToArray();
            var y = only is null ? labels.AsSpan(r * m, m).ToArray() : labels;
            var w = fitted.AsSpan(r * d, d).ToArray();
            var matrix = new double[m, d];
            for (var q = 0; q < m; q++)
                for (var k = 0; k < d; k++) matrix[q, k] = a[q][k];
            var reference = ReferenceRegression.MinNormLeastSquares(matrix, y);
            var referenceNorm = Math.Sqrt(Dot(reference, reference));
            var gap = Math.Sqrt(Enumerable.Range(0, d).Sum(k => (w[k] - reference[k]) * (w[k] - reference[k])));
            // The normal equations square the design's condition number; these small Gaussian designs stay far from 1e8.
            Assert.True(gap <= 1e-7 * Math.Max(1, referenceNorm), $"{what}, replicate {r}: ‖ŵ − ŵ_QR‖ = {gap:G3} (‖ŵ_QR‖ = {referenceNorm:G3})");
            var gradient = new double[d];
            double scale = 0;
            for (var q = 0; q < m; q++)
            {
                var residual = y[q] - Dot(a[q], w);
                for (var k = 0; k < d; k++) gradient[k] += a[q][k] * residual;
                scale += Dot(a[q], a[q]) * (Math.Abs(y[q]) + Math.Sqrt(Dot(a[q], a[q]) * Dot(w, w)));
            }
            var norm = Math.Sqrt(Dot(gradient, gradient));
            Assert.True(norm <= 1e-9 * scale, $"{what}, replicate {r}: ‖Aᵀ(y − Aŵ)‖ = {norm:G3} against a scale of {scale:G3}");
            // The part of ŵ outside A's row space (orthonormal basis by modified Gram–Schmidt, applied twice).
            var basis = RowSpace(a, d);
            var outside = (double[])w.Clone();
            foreach (var q in basis)
            {
                var c = Dot(q, outside);
                for (var k = 0; k < d; k++) outside[k] -= c * q[k];
            }
            var wNorm = Math.Sqrt(Dot(w, w));
            Assert.True(Math.Sqrt(Dot(outside, outside)) <= 1e-8 * Math.Max(1, wNorm),
                $"{what}, replicate {r}: ŵ has {Math.Sqrt(Dot(outside, outside)):G3} outside the {basis.Count}-dimensional row space (‖ŵ‖ = {wNorm:G3})");
        }
    }

    static List<double[]> RowSpace(double[][] rows, int d)
    {
        var basis = new List<double[]>();
        var largest = rows.Max(x => Math.Sqrt(Dot(x, x)));
        foreach (var row in rows)
        {
            var v = (double[])row.Clone();
            for (var pass = 0; pass < 2; pass++)
                foreach (var q in basis)
                {
                    var c = Dot(q, v);
                    for (var k = 0; k < d; k++) v[k] -= c * q[k];
                }
            var norm = Math.Sqrt(Dot(v, v));
            // A repeated row (or one in the span so far) leaves only rounding behind.
            if (norm <= 1e-9 * largest) continue;
            for (var k = 0; k < d; k++) v[k] /= norm;
            basis.Add(v);
        }
        return basis;
    }

    static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }
}

/// <summary>The engine's simulated means against the exact expectations (<see cref="RegressionTheory"/>), within their standard errors.</summary>
public class RegressionTheoryAgreementTests
{
    [Theory]
    // n > d + 1: the noise grows like t (Replace) or Σ 1/k² (Accumulate); n < d − 1 adds the bias d − n.
    [InlineData("replace", 3, 10, 1.0)]
    [InlineData("accumulate", 3, 10, 1.0)]
    [InlineData("replace", 10, 4, 2.0)]
    [InlineData("accumulate", 10, 4, 2.0)]
    [InlineData("replace", 1, 5, 10.0)]
    [InlineData("accumulate-subsample", 4, 9, 0.0)]
    public void Simulated_mean_errors_match_the_exact_expectations(string settingName, int d, int n, double noiseVariance)
    {
        const int seeds = 3000, iterations = 6;
        var setting = Settings.Parse(settingName);
        var config = new RegressionSweepConfig
        {
            Dims = [d], Samples = [n], NoiseVariances = [noiseVariance], Seeds = seeds, Iterations = iterations, Settings = [setting], TestSize = 200, Seed = 11,
        };
        using var sweep = new RegressionSweep(TestDevices.Get("cpu"), config);
        var rows = sweep.Rows(config.Cells().Single(), cancellation: TestContext.Current.CancellationToken);
        var expected = RegressionTheory.ExpectedTestMse(setting, d, n, noiseVariance, iterations);
        var checkedAny = false;
        for (var t = 1; t <= iterations; t++)
        {
            if (!RegressionTheory.IsKnown(setting, d, n, noiseVariance, t)) continue;
            checkedAny = true;
            foreach (var (name, values) in new[]
                     {
                         ("weight_error", rows.Where(r => r.Iteration == t).Select(r => r.WeightError).ToList()),
                         ("test_mse", rows.Where(r => r.Iteration == t).Select(r => r.TestMse).ToList()),
                     })
            {
                var mean = values.Average();
                var se = Statistics.StandardError(values);
                Assert.True(Math.Abs(mean - expected[t - 1]) <= 4.5 * se + 1e-12,
                    $"{settingName} d={d} n={n} σ²={noiseVariance} t={t} {name}: simulated {mean:G5} ± {se:G2}, exact {expected[t - 1]:G5}");
            }
        }
        Assert.True(checkedAny, "no iteration has an exact value to check");
    }
}
