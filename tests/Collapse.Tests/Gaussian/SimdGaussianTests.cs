using Collapse.Engine.Families.Gaussian;
using Collapse.Kernels.Cpu;

namespace Collapse.Tests.Gaussian;

/// <summary>
/// The CPU path's Gaussian kernels (<see cref="SimdGaussian"/>): transform, scatter and pivoted
/// Cholesky against plain float64 and bit for bit across vector widths, and the deferred samples
/// built on them: a fit that needs only a sample's moments takes them from its normals
/// (x̄ = μ + P·L·z̄, M2ₓ = P·L·M2_z·Lᵀ·Pᵀ) instead of drawing the points.
/// </summary>
public unsafe class SimdGaussianTests
{
    /// <summary>A pivot-order factor (lowerT[k, j] = L[j, k], zero above the diagonal and past rank), a permutation and a mean.</summary>
    sealed class Model
    {
        public readonly double[] LowerT, Mean;
        public readonly int[] Perm;
        public readonly int D, Ld, Rank;

        public Model(int seed, int d, int rank, double offset)
        {
            var random = new System.Random(seed);
            (D, Ld, Rank) = (d, GaussianShape.StrideOf(d), rank);
            LowerT = new double[d * Ld];
            for (var k = 0; k < rank; k++)
                for (var j = k; j < d; j++) LowerT[k * Ld + j] = random.NextDouble() - 0.5 + (j == k ? 1.5 : 0);
            Perm = Enumerable.Range(0, d).OrderBy(_ => random.Next()).ToArray();
            Mean = Enumerable.Range(0, d).Select(j => offset + j).ToArray();
        }

        /// <summary>x[p, π(j)] = μ[π(j)] + Σ_{k &lt; rank} z[p, k]·L[j, k] in plain float64 (padding zero).</summary>
        public double[] Points(double[] z, int zStride, int m)
        {
            var x = new double[m * Ld];
            for (var p = 0; p < m; p++)
                for (var j = 0; j < D; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < Math.Min(j + 1, Rank); k++) sum += z[p * zStride + k] * LowerT[k * Ld + j];
                    x[p * Ld + Perm[j]] = Mean[Perm[j]] + sum;
                }
            return x;
        }
    }

    static double[] Normals(int seed, int m, int d, int stride)
    {
        var random = new System.Random(seed);
        var z = new double[m * stride];
        for (var p = 0; p < m; p++)
            for (var k = 0; k < d; k++) z[p * stride + k] = random.NextDouble() * 2 - 1;
        return z;
    }

    static double[][] Rows(double[] x, int m, int d, int ld) =>
        Enumerable.Range(0, m).Select(p => Enumerable.Range(0, d).Select(j => x[p * ld + j]).ToArray()).ToArray();

    public static IEnumerable<bool> Widths() => SimdGaussian.Is512Supported ? [false, true] : [false];

    /// <summary>Sizes where ld is a multiple of 16 and where it leaves an 8-column tail, full rank and not, m below and above a tile.</summary>
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 9, 1 }, { 3, 10, 3 }, { 8, 33, 8 }, { 10, 100, 10 }, { 16, 17, 9 }, { 31, 40, 31 }, { 64, 70, 64 }, { 100, 250, 100 }, { 100, 37, 36 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Transform_and_scatter_match_the_reference_and_give_the_same_bits_at_both_widths(int d, int m, int rank)
    {
        var model = new Model(d * 7 + m, d, rank, 3.0);
        var z = Normals(d + m, m, d, d);
        var expected = model.Points(z, d, m);
        var referenceMean = ReferenceGaussian.Mean(Rows(expected, m, d, model.Ld));
        var referenceScatter = ReferenceGaussian.Scatter(Rows(expected, m, d, model.Ld));
        var results = new List<(double[] X, double[] Mean, double[] M2)>();
        foreach (var wide in Widths())
        {
            var x = new double[m * model.Ld];
            var mean = new double[d];
            var m2 = new double[d * d];
            fixed (double* mp = model.Mean, lp = model.LowerT, zp = z, xp = x, meanp = mean, m2p = m2)
            fixed (int* pp = model.Perm)
            {
                SimdGaussian.Transform(mp, lp, pp, rank, zp, d, m, d, model.Ld, xp, wide);
                SimdGaussian.Moments(xp, m, d, model.Ld, meanp, m2p, wide);
            }
            for (var e = 0; e < x.Length; e++) Assert.Equal(expected[e], x[e], 1e-12);
            for (var j = 0; j < d; j++) Assert.Equal(referenceMean[j], mean[j], 1e-12);
            var scatter = new double[d, d];
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) scatter[i, j] = m2[i * d + j];
            Assert.True(ReferenceGaussian.MaxAbsDifference(referenceScatter, scatter) <= 1e-12 * (1 + ReferenceGaussian.MaxAbs(referenceScatter)),
                $"wide={wide}: scatter differs by {ReferenceGaussian.MaxAbsDifference(referenceScatter, scatter)}");
            results.Add((x, mean, m2));
        }
        // Every element gets the same FMAs in the same order at either width.
        for (var w = 1; w < results.Count; w++)
        {
            Assert.Equal(results[0].X, results[w].X);
            Assert.Equal(results[0].Mean, results[w].Mean);
            Assert.Equal(results[0].M2, results[w].M2);
        }
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(7, 30)]
    [InlineData(31, 100)]
    [InlineData(100, 400)]
    [InlineData(100, 60)]
    [InlineData(40, 40)]
    public void Pivoted_Cholesky_gives_the_same_bits_at_both_widths(int d, int m)
    {
        // Scatter of m points (rank min(d, m − 1)): full rank, and at the rank boundary.
        var random = new System.Random(d * 31 + m);
        var ld = GaussianShape.StrideOf(d);
        var x = new double[m * ld];
        for (var p = 0; p < m; p++)
            for (var j = 0; j < d; j++) x[p * ld + j] = random.NextDouble() * (j + 1) - 0.5;
        var m2 = new double[d * d];
        var mean = new double[d];
        fixed (double* xp = x, mp = mean, m2p = m2) SimdGaussian.Moments(xp, m, d, ld, mp, m2p, false);
        var results = new List<(int Rank, double LogDet, double[] FactorT, double[] LowerT, int[] Perm)>();
        foreach (var wide in Widths())
        {
            var (work, column, factorT, lowerT, perm) = (new double[d * d], new double[2 * d], new double[d * ld], new double[d * ld], new int[d]);
            int rank;
            double logDet;
            fixed (double* m2p = m2, wp = work, cp = column, fp = factorT, lp = lowerT)
            fixed (int* pp = perm)
                rank = SimdGaussian.PivotedCholesky(m2p, 1.0 / m, Math.Min(d, m - 1), d, ld, wp, pp, cp, fp, lp, out logDet, wide);
            Assert.Equal(Math.Min(d, m - 1), rank);
            var covariance = new double[d, d];
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) covariance[i, j] = m2[i * d + j] / m;
            var rebuilt = ReferenceGaussian.FromFactorT(factorT, 0, d, ld, rank);
            Assert.True(ReferenceGaussian.MaxAbsDifference(covariance, rebuilt) <= 1e-10 * (1 + ReferenceGaussian.MaxAbs(covariance)), $"wide={wide}: F·Fᵀ is not Σ");
            results.Add((rank, logDet, factorT, lowerT, perm));
        }
        for (var w = 1; w < results.Count; w++)
        {
            Assert.Equal(results[0].Rank, results[w].Rank);
            Assert.Equal(results[0].LogDet, results[w].LogDet);
            Assert.Equal(results[0].FactorT, results[w].FactorT);
            Assert.Equal(results[0].LowerT, results[w].LowerT);
            Assert.Equal(results[0].Perm, results[w].Perm);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Moments_of_the_normals_equal_the_moments_of_the_drawn_points(int d, int m, int rank)
    {
        // Far from the origin, so a mean computed carelessly would lose digits.
        var model = new Model(d * 13 + m, d, rank, 1000.0);
        var z = Normals(2 * d + m, m, d, model.Ld);
        var drawn = Rows(model.Points(z, model.Ld, m), m, d, model.Ld);
        var expectedMean = ReferenceGaussian.Mean(drawn);
        var expectedScatter = ReferenceGaussian.Scatter(drawn);
        foreach (var wide in Widths())
        {
            var mean = (double[])model.Mean.Clone();
            var m2 = new double[d * d];
            fixed (double* mp = model.Mean, lp = model.LowerT, zp = z, meanp = mean, m2p = m2)
            fixed (int* pp = model.Perm)
                SimdGaussian.MomentsOfTransform(mp, lp, pp, rank, zp, m, d, model.Ld, meanp, m2p, wide);
            for (var j = 0; j < d; j++) Assert.Equal(expectedMean[j], mean[j], 1e-10);
            var scale = 1 + ReferenceGaussian.MaxAbs(expectedScatter);
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++)
                {
                    Assert.True(Math.Abs(expectedScatter[i, j] - m2[i * d + j]) <= 1e-13 * scale,
                        $"wide={wide} M2[{i},{j}] = {m2[i * d + j]} vs {expectedScatter[i, j]}");
                    Assert.Equal(m2[i * d + j], m2[j * d + i]);
                }
        }
    }

    static GaussianFamily Family(bool defer, int d, int replicates) =>
        new(TestDevices.Get("cpu").Accelerator, new GaussianKernels(TestDevices.Get("cpu").Accelerator) { DeferSamples = defer }, d, replicates, 0, 11);

    [Fact]
    public void A_deferred_sample_reads_as_the_points_drawn_at_once_and_fits_to_within_rounding()
    {
        const int d = 5, n = 40, replicates = 3;
        using var deferred = Family(true, d, replicates);
        using var direct = Family(false, d, replicates);
        using var read = Family(true, d, replicates);
        Assert.True(new GaussianKernels(TestDevices.Get("cpu").Accelerator).DefersSamples(n, d) || !SimdNormals.IsSupported);
        var tables = new[] { deferred, direct, read }.Select(f => new MetricTable(replicates, f.Metrics)).ToArray();
        for (var t = 1; t <= 4; t++)
        {
            using var a = t == 1 ? deferred.DrawReal(n) : deferred.Sample(n, t);
            using var b = t == 1 ? direct.DrawReal(n) : direct.Sample(n, t);
            using var c = t == 1 ? read.DrawReal(n) : read.Sample(n, t);
            // Reading the points draws them: the same bits as the family that never defers.
            Assert.Equal(b.Points.GetAsArray1D(), c.Points.GetAsArray1D());
            deferred.Fit(a);
            direct.Fit(b);
            read.Fit(c);
            deferred.Evaluate(tables[0], null);
            direct.Evaluate(tables[1], null);
            read.Evaluate(tables[2], null);
            for (var r = 0; r < replicates; r++)
                for (var k = 0; k < GaussianMetrics.All.Count; k++)
                {
                    var metric = GaussianMetrics.All[k];
                    Assert.Equal(tables[1][r, metric], tables[2][r, metric]);
                    var (x, y) = (tables[0][r, metric], tables[1][r, metric]);
                    Assert.True(Math.Abs(x - y) <= 1e-12 * Math.Max(1, Math.Abs(y)), $"t={t} replicate {r} {metric}: from the normals {x} vs drawn {y}");
                }
        }
    }

    [Fact]
    public void A_deferred_sample_held_across_a_refit_is_drawn_from_the_model_it_came_from()
    {
        const int d = 3, n = 30;
        using var deferring = Family(true, d, 2);
        using var direct = Family(false, d, 2);
        foreach (var f in new[] { deferring, direct })
            using (var real = f.DrawReal(n)) f.Fit(real);
        // Held while another sample is fitted (a mix keeps its synthetic pool so): drawn before the refit.
        using var held = deferring.Sample(n, 2);
        using var heldDirect = direct.Sample(n, 2);
        using (var other = deferring.Sample(n, 3)) deferring.Fit(other);
        Assert.Equal(heldDirect.Points.GetAsArray1D(), held.Points.GetAsArray1D());
    }

    [Fact]
    public void Reading_a_sample_after_a_fit_took_its_moments_and_changed_the_model_is_refused()
    {
        const int d = 3, n = 30;
        using var family = Family(true, d, 2);
        using var real = family.DrawReal(n);
        family.Fit(real);
        var refused = Assert.Throws<InvalidOperationException>(() => real.Points);
        Assert.Contains("before fitting", refused.Message);
        // And again: a refused read leaves nothing behind that a second read would take for points.
        Assert.Throws<InvalidOperationException>(() => real.Points);
    }

    public static TheoryData<string, int, int> DeferredTheoryCases() => new()
    {
        { "replace", 3, 16 },
        { "accumulate", 3, 12 },
        { "accumulate", 2, 40 },
    };

    /// <summary>Chains whose every fit is taken from the normals (n ≥ 4d) against the exact expectations, as GaussianScenarioTests does for drawn points.</summary>
    [Theory]
    [MemberData(nameof(DeferredTheoryCases))]
    public void Chains_fitted_from_the_normals_match_the_exact_expectations(string settingName, int d, int n)
    {
        const int t = 6, seeds = 3000;
        var setting = Settings.Parse(settingName);
        Assert.True(TestDevices.GaussianKernels("cpu", KernelPath.Auto).DefersSamples(n, d) || !SimdNormals.IsSupported);
        var config = new GaussianSweepConfig { Dims = [d], Samples = [n], Seeds = seeds, Iterations = t, Settings = [setting], Seed = 29 };
        using var sweep = new GaussianSweep(TestDevices.Get("cpu"), config, KernelPath.Auto);
        var rows = sweep.Rows(new GaussianCell(setting, d, n), cancellation: TestContext.Current.CancellationToken);
        var theory = GaussianTheory.Expectations(setting, d, n, t);
        for (var iteration = 1; iteration <= t; iteration++)
        {
            var at = rows.Where(r => r.Iteration == iteration).ToList();
            foreach (var (expected, values, what) in new[]
                     {
                         (theory[iteration - 1].TraceRatio, at.Select(r => r.TraceRatio).ToList(), "trace ratio"),
                         (theory[iteration - 1].SquaredErrorMean, at.Select(r => r.SquaredErrorMean).ToList(), "‖μ‖²"),
                     })
            {
                var mean = values.Average();
                var error = Statistics.StandardError(values);
                Assert.True(Math.Abs(mean - expected) <= 4.5 * error, $"{settingName} t={iteration} {what}: mean {mean} vs exact {expected} (standard error {error})");
            }
        }
    }
}
