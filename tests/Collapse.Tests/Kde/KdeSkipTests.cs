using Collapse.Kernels.Cpu;
using System.Runtime.Intrinsics;

namespace Collapse.Tests.Kde;

/// <summary>
/// The CPU path's bounded skipping (<see cref="SimdKde"/>): fitted points in leaves with bounding boxes, a leaf
/// skipped only while the skipped terms provably sum to at most ε of the test point's sum. Checked against the
/// float64 reference and against the same code scoring every pair, on layouts chosen to break a wrong bound.
/// </summary>
public unsafe class KdeSkipTests
{
    /// <summary>Per-point log-densities after adding every generation in turn, and the pairs skipped.</summary>
    static (double[] LogDensity, long Skipped) Score(double[][] test, IReadOnlyList<double[][]> generations, double h, double tolerance, bool wide = false)
    {
        var dim = test[0].Length;
        var testFlat = test.SelectMany(p => p).ToArray();
        var state = new double[2 * test.Length];
        for (var t = 0; t < test.Length; t++) (state[2 * t], state[2 * t + 1]) = (double.NegativeInfinity, 0);
        long skipped = 0, count = 0;
        foreach (var generation in generations)
        {
            var n = generation.Length;
            var fitted = generation.SelectMany(p => p).ToArray();
            var scratch = new double[SimdKde.ScratchLength(n, dim)];
            var order = new int[n];
            var values = new double[SimdKde.Leaf];
            var bounds = new double[(n + SimdKde.Leaf - 1) / SimdKde.Leaf];
            var kept = new int[bounds.Length];
            fixed (double* tp = testFlat, fp = fitted, sp = scratch, vp = values, bp = bounds, st = state)
            fixed (int* op = order, kp = kept)
            {
                var leaves = SimdKde.Order(fp, n, dim, sp, op);
                skipped += (long)test.Length * n - SimdKde.Accumulate(tp, test.Length, leaves, 1 / (2 * h * h), tolerance, st, vp, bp, kp, wide);
            }
            count += n;
        }
        var log = Enumerable.Range(0, test.Length).Select(t => KdeKernels.LogDensity(state, t, count, dim, h)).ToArray();
        return (log, skipped);
    }

    static double[][] Cloud(System.Random random, int count, int dim, double spread, double[]? centre = null) =>
        Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dim)
            .Select(j => (centre?[j] ?? 0) + spread * (random.NextDouble() - 0.5)).ToArray()).ToArray();

    /// <summary>Tight clusters far apart, test points in one cluster, between clusters and far outside.</summary>
    static (double[][] Test, double[][] Fitted) Clusters(int seed, int dim)
    {
        var random = new System.Random(seed);
        var centres = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, dim).Select(_ => 40 * (random.NextDouble() - 0.5)).ToArray()).ToArray();
        var fitted = centres.SelectMany(c => Cloud(random, 50, dim, 0.02, c)).ToArray();
        var test = Cloud(random, 10, dim, 0.02, centres[3]).Concat(Cloud(random, 10, dim, 40)).Concat(Cloud(random, 5, dim, 2, [.. Enumerable.Repeat(300.0, dim)])).ToArray();
        return (test, fitted);
    }

    /// <summary>The vector widths this CPU runs: AVX2 always, AVX-512 where present.</summary>
    public static IEnumerable<bool> Widths() => SimdKde.Is512Supported ? [false, true] : [false];

    public static TheoryData<int, double, bool> Layouts()
    {
        var data = new TheoryData<int, double, bool>();
        foreach (var dim in new[] { 1, 2, 3 })
            foreach (var h in new[] { 0.01, 0.1, 1.0, 10.0, 100.0 })
                foreach (var wide in Widths())
                    data.Add(dim, h, wide);
        return data;
    }

    public static TheoryData<bool> WidthData() => [.. Widths()];

    /// <summary>
    /// On clustered fits with near, between and far test points, at h from 0.01 to 100: every log-density within ε
    /// (plus float rounding) of the float64 reference and of the same code scoring every pair; the bound skips at
    /// narrow bandwidths and has nothing to skip at wide ones.
    /// </summary>
    [Theory]
    [MemberData(nameof(Layouts))]
    public void Skipping_keeps_every_log_density_within_the_bound(int dim, double h, bool wide)
    {
        var (test, fitted) = Clusters(dim * 100 + (int)(h * 100), dim);
        var (skipping, skipped) = Score(test, [fitted], h, SimdKde.DefaultTolerance, wide);
        var (full, none) = Score(test, [fitted], h, 0, wide);
        Assert.Equal(0, none);
        for (var t = 0; t < test.Length; t++)
        {
            var reference = ReferenceKde.LogDensity(test[t], fitted, h);
            // Rounding: 1,000 terms summed in another order than the reference's, relative to log-densities up to 10⁷.
            var rounding = 1e-15 * Math.Max(1, Math.Abs(reference)) + 1e-14;
            Assert.True(Math.Abs(full[t] - reference) <= rounding, $"t = {t}: every pair {full[t]:R}, reference {reference:R}");
            Assert.True(Math.Abs(skipping[t] - reference) <= SimdKde.DefaultTolerance + rounding, $"t = {t}: skipping {skipping[t]:R}, reference {reference:R}");
        }
        // At h ≤ 0.1 the clusters (0.02 tight, 40 apart at most) are tens of bandwidths from most test points.
        if (h <= 0.1) Assert.True(skipped > test.Length * fitted.Length / 2, $"skipped {skipped} of {test.Length * fitted.Length}");
        if (h <= 1) Assert.True(skipped > 0);
        if (h >= 100) Assert.Equal(0, skipped);
    }

    /// <summary>
    /// One fitted point on the test point and 40,000 at a distance where each term is 10⁻¹⁷ of it: each leaf alone is
    /// far below ε, together they are 4·10⁻¹³ of the sum. A bound per leaf (without the leaf count share) would skip
    /// them all and be 400 times outside ε; this one skips at most ε's worth.
    /// </summary>
    [Theory]
    [MemberData(nameof(WidthData))]
    public void Many_negligible_leaves_together_are_not_skipped(bool wide)
    {
        var random = new System.Random(7);
        const double h = 0.1;
        var radius = h * Math.Sqrt(2 * Math.Log(1e17)); // e^(−r²/2h²) = 10⁻¹⁷
        var ring = Enumerable.Range(0, 40_000).Select(_ =>
        {
            var angle = 2 * Math.PI * random.NextDouble();
            return new[] { radius * Math.Cos(angle), radius * Math.Sin(angle) };
        });
        double[][] fitted = [[0.0, 0.0], .. ring];
        double[][] test = [[0.0, 0.0]];
        var exact = 40_000 * 1e-17 /* ln(1 + x) = x − x²/2 + …, x² far below rounding */ - Math.Log(fitted.Length) - Math.Log(2 * Math.PI * h * h);
        var (skipping, _) = Score(test, [fitted], h, SimdKde.DefaultTolerance, wide);
        var (full, _) = Score(test, [fitted], h, 0, wide);
        Assert.True(Math.Abs(full[0] - exact) < 2e-15, $"every pair {full[0]:R}, exact {exact:R}");
        Assert.True(exact - skipping[0] <= SimdKde.DefaultTolerance + 2e-15, $"skipping {skipping[0]:R} is {exact - skipping[0]:G3} below exact {exact:R}");
        Assert.True(skipping[0] <= exact + 2e-15, "skipping only omits positive terms");
    }

    /// <summary>Accumulate's generations one by one: the bound holds per call, so 100 calls stay within 100 ε.</summary>
    [Theory]
    [MemberData(nameof(WidthData))]
    public void Generations_added_one_by_one_stay_within_the_bound_per_call(bool wide)
    {
        var random = new System.Random(11);
        var test = Cloud(random, 40, 2, 3);
        var generations = Enumerable.Range(0, 100).Select(g => Cloud(random, 64, 2, 0.5, [4 * Math.Cos(g), 4 * Math.Sin(g)])).ToList();
        const double h = 0.1;
        var (skipping, skipped) = Score(test, generations, h, SimdKde.DefaultTolerance, wide);
        var union = generations.SelectMany(g => g).ToArray();
        Assert.True(skipped > 0);
        for (var t = 0; t < test.Length; t++)
        {
            var reference = ReferenceKde.LogDensity(test[t], union, h);
            Assert.True(Math.Abs(skipping[t] - reference) <= 100 * SimdKde.DefaultTolerance + 1e-15 * Math.Max(1, Math.Abs(reference)) + 1e-14,
                $"t = {t}: {skipping[t]:R} against {reference:R}");
        }
    }

    /// <summary>The leaf order is a permutation, and every leaf's box holds its points; a NaN point sorts without breaking it.</summary>
    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(31, 2, 0)]
    [InlineData(33, 2, 0)]
    [InlineData(1000, 3, 0)]
    [InlineData(4099, 2, 0)]
    [InlineData(1000, 2, 1)] // every point the same: the median splits meet nothing but duplicates
    [InlineData(2000, 2, 3)] // three distinct coordinates
    public void Leaves_are_a_permutation_inside_their_boxes(int count, int dim, int distinct)
    {
        var random = new System.Random(count);
        var points = Cloud(random, count, dim, 10);
        if (distinct > 0)
            foreach (var point in points)
                for (var j = 0; j < dim; j++) point[j] = Math.Floor(distinct * (point[j] + 5) / 10);
        if (count > 2) points[count / 2][0] = double.NaN;
        var flat = points.SelectMany(p => p).ToArray();
        var scratch = new double[SimdKde.ScratchLength(count, dim)];
        var order = new int[count];
        fixed (double* fp = flat, sp = scratch)
        fixed (int* op = order)
        {
            var leaves = SimdKde.Order(fp, count, dim, sp, op);
            Assert.Equal(Enumerable.Range(0, count), order.Order());
            for (var p = 0; p < count; p++)
            {
                var b = p / SimdKde.Leaf;
                for (var j = 0; j < dim; j++)
                {
                    var x = leaves.Columns[(long)j * count + p];
                    Assert.Equal(points[order[p]][j], x);
                    var (low, high) = (leaves.Boxes[(long)j * leaves.LeafCount + b], leaves.Boxes[(long)(dim + j) * leaves.LeafCount + b]);
                    var leafHasNaN = Enumerable.Range(b * SimdKde.Leaf, Math.Min(SimdKde.Leaf, count - b * SimdKde.Leaf))
                        .Any(q => double.IsNaN(points[order[q]][j]));
                    if (leafHasNaN) Assert.True(double.IsNaN(low) && double.IsNaN(high), "a leaf with a NaN has a NaN box, so it is never skipped");
                    else Assert.True(low <= x && x <= high, $"point {p} coordinate {j}: {x} outside [{low}, {high}]");
                }
            }
        }
    }
}

/// <summary>The CPU path's polynomial exp, both widths, against Math.Exp over the range the scorer feeds it.</summary>
public class SimdKdeExpTests
{
    [Fact]
    public void The_polynomial_exp_is_within_2e_14_relative_of_Math_Exp_on_minus_64_to_32()
    {
        var random = new System.Random(3);
        // Endpoints, points just off 0 and ±ln2/2 (where the reduction changes k), and 100,000 draws on [−64, 32]
        // (a one-pass leaf's terms may lie up to 32 above the running max).
        var xs = new List<double> { -64, 32, 0, -0.0, 1e-12, -Math.Log(2) / 2, Math.Log(2) / 2, 31.999 };
        for (var i = 0; i < 100_000; i++) xs.Add(-64 + 96 * random.NextDouble());
        var worst = 0.0;
        for (var i = 0; i + 8 <= xs.Count; i += 8)
        {
            var lanes = xs.Skip(i).Take(8).ToArray();
            var narrow = Vector256.Create(lanes[0], lanes[1], lanes[2], lanes[3]);
            var results = new List<double>();
            var low = SimdKde.Exp(narrow);
            var high = SimdKde.Exp(Vector256.Create(lanes[4], lanes[5], lanes[6], lanes[7]));
            for (var k = 0; k < 4; k++) results.Add(low.GetElement(k));
            for (var k = 0; k < 4; k++) results.Add(high.GetElement(k));
            if (SimdKde.Is512Supported)
            {
                var wide = SimdKde.Exp(Vector512.Create(lanes));
                for (var k = 0; k < 8; k++) Assert.Equal(results[k], wide.GetElement(k));
            }
            for (var k = 0; k < 8; k++) worst = Math.Max(worst, Math.Abs(results[k] / Math.Exp(lanes[k]) - 1));
        }
        Assert.True(worst < 2e-14, $"worst relative error {worst:G3}");
    }
}
