namespace Collapse.Tests.Gaussian;

/// <summary>
/// The GPU-shaped factorization and Wishart draw (one group per replicate, the packed triangle in shared memory) against the
/// one-thread-per-replicate kernel on every backend present, with groups of several sizes: the same rank, the
/// same pivot order, the same factor and log det, on full-rank covariances, on scatter matrices of fewer
/// points than dimensions (rank capped at m − 1), and on matrices whose smallest pivots sit just above and just
/// below the d·ε·max diag rule.
/// </summary>
public class GroupPerReplicateTests
{
    public static TheoryData<string, int> Groups()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.Present().Select(row => (string)((ITheoryDataRow)row).GetData()[0]!))
            foreach (var size in new[] { 1, 7, 32, 128 })
                data.Add(device, size);
        return TestDevices.Tagged(data);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void The_grouped_factorization_matches_the_sequential_one(string device, int groupSize)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        if (groupSize > accelerator.MaxNumThreadsPerGroup) groupSize = accelerator.MaxNumThreadsPerGroup;
        var sequential = new GaussianKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = false };
        var grouped = new GaussianKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = true, FactorGroupSize = groupSize };
        foreach (var (name, d, count, matrices) in Cases())
        {
            var a = Factor(sequential, d, count, matrices);
            var b = Factor(grouped, d, count, matrices);
            Assert.Equal(a.Rank, b.Rank);
            Assert.Equal(a.Perm, b.Perm);
            for (var r = 0; r < a.LogDet.Length; r++)
                Assert.True(a.LogDet[r].Equals(b.LogDet[r]) || Math.Abs(a.LogDet[r] - b.LogDet[r]) <= 1e-12 * Math.Max(1, Math.Abs(a.LogDet[r])),
                    $"{name}, replicate {r}: log det {a.LogDet[r]:R} against {b.LogDet[r]:R}");
            for (var e = 0; e < a.FactorT.Length; e++)
                Assert.True(Math.Abs(a.FactorT[e] - b.FactorT[e]) <= 1e-12 * Math.Max(1, Math.Abs(a.FactorT[e])),
                    $"{name}, element {e}: {a.FactorT[e]:R} against {b.FactorT[e]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void The_grouped_wishart_draw_matches_the_sequential_one(string device, int groupSize)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        if (groupSize > accelerator.MaxNumThreadsPerGroup) groupSize = accelerator.MaxNumThreadsPerGroup;
        var sequential = new GaussianKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = false };
        var grouped = new GaussianKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = true, FactorGroupSize = groupSize };
        var random = new System.Random(23);
        // Full-rank models, a rank-deficient one, and n − 1 below the rank (the singular Wishart).
        foreach (var (d, n, rankOf) in new[] { (1, 10, 1), (5, 40, 5), (17, 9, 17), (33, 200, 20), (100, 150, 100) })
        {
            const int R = 3;
            var shape = new GaussianShape(R, d);
            var factor = new double[shape.FactorLength];
            var mean = new double[shape.MeanLength];
            for (var r = 0; r < R; r++)
            {
                for (var k = 0; k < rankOf; k++)
                    for (var j = 0; j < d; j++) factor[((long)r * d + k) * shape.Stride + j] = random.NextDouble() - 0.5;
                for (var j = 0; j < d; j++) mean[r * d + j] = random.NextDouble();
            }
            var a = Draw(sequential, shape, n, mean, factor, rankOf);
            var b = Draw(grouped, shape, n, mean, factor, rankOf);
            Assert.Equal(a.Rank, b.Rank);
            foreach (var (x, y, what) in new[] { (a.Mean, b.Mean, "mean"), (a.FactorT, b.FactorT, "factor"), (a.LogDet, b.LogDet, "log det increment") })
                for (var e = 0; e < x.Length; e++)
                    Assert.True(Math.Abs(x[e] - y[e]) <= 1e-12 * Math.Max(1, Math.Abs(x[e])), $"d={d} n={n} {what}[{e}]: {x[e]:R} against {y[e]:R}");
        }
    }

    static (int[] Rank, double[] Mean, double[] FactorT, double[] LogDet) Draw(GaussianKernels kernels, GaussianShape shape, int n, double[] mean,
        double[] factor, int rank)
    {
        var accelerator = kernels.Accelerator;
        using var meanIn = accelerator.Allocate1D(mean);
        using var factorIn = accelerator.Allocate1D(factor);
        using var rankIn = accelerator.Allocate1D(Enumerable.Repeat(rank, shape.Replicates).ToArray());
        using var meanOut = accelerator.Allocate1D<double>(shape.MeanLength);
        using var factorOut = accelerator.Allocate1D<double>(shape.FactorLength);
        using var rankOut = accelerator.Allocate1D<int>(shape.Replicates);
        using var increment = accelerator.Allocate1D<double>(shape.Replicates);
        kernels.DrawWishart(shape, new RandomStream(9, 0, 2, 18), new RandomStream(9, 0, 2, 19), 4, n, meanIn.View, factorIn.View, rankIn.View,
            meanOut.View, factorOut.View, rankOut.View, increment.View);
        kernels.Synchronize();
        return (rankOut.GetAsArray1D(), meanOut.GetAsArray1D(), factorOut.GetAsArray1D(), increment.GetAsArray1D());
    }

    [Fact]
    public void The_rank_rule_at_the_boundary_is_d_eps_max_diag()
    {
        // A permuted diagonal: pivoted Cholesky takes its entries largest first, so the rank is exactly the count above the tolerance.
        var accelerator = TestDevices.Get("cpu").Accelerator;
        const int d = 12;
        var tolerance = d * 2.220446049250313e-16 * 4.0;
        double[] diagonal = [4, 3, 2, 1, 0.5, 0.25, 1.5 * tolerance, 1.01 * tolerance, 0.99 * tolerance, 0.5 * tolerance, 0, 0];
        var order = new[] { 7, 2, 11, 0, 9, 4, 1, 10, 3, 8, 6, 5 };
        var matrix = new double[d * d];
        // A scatter of 1,000 points (so the rank cap min(d, m − 1) does not bind), Σ = M2 / 1,000 the diagonal above.
        for (var i = 0; i < d; i++) matrix[order[i] * d + order[i]] = 1000 * diagonal[i];
        foreach (var grouped in new[] { false, true })
        {
            var kernels = new GaussianKernels(accelerator, KernelPath.Ilgpu) { GroupPerReplicate = grouped, FactorGroupSize = 16 };
            var result = Factor(kernels, d, 1000, [matrix]);
            Assert.Equal(8, result.Rank[0]);
            Assert.Equal(double.NegativeInfinity, result.LogDet[0]);
        }
    }

    static IEnumerable<(string Name, int D, long Count, double[][] Matrices)> Cases()
    {
        var random = new System.Random(17);
        foreach (var d in new[] { 1, 3, 17, 64, 100 })
        {
            // Full rank: the scatter of 3d points; and rank-deficient: of d/2 + 1 points (rank d/2), capped at m − 1.
            yield return ($"full rank d={d}", d, 3L * d, [.. Enumerable.Range(0, 3).Select(_ => Scatter(random, d, 3 * d))]);
            var m = d / 2 + 1;
            if (m >= 2) yield return ($"rank {m - 1} of d={d}", d, m, [.. Enumerable.Range(0, 3).Select(_ => Scatter(random, d, m))]);
        }
    }

    /// <summary>Σ_p (x_p − x̄)(x_p − x̄)ᵀ of m points with coordinates of different scales (so pivoting matters).</summary>
    static double[] Scatter(System.Random random, int d, int m)
    {
        var points = Enumerable.Range(0, m).Select(_ => Enumerable.Range(0, d).Select(j => (1 + j % 5) * (random.NextDouble() - 0.5)).ToArray()).ToArray();
        var mean = Enumerable.Range(0, d).Select(j => points.Average(p => p[j])).ToArray();
        var scatter = new double[d * d];
        foreach (var p in points)
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) scatter[i * d + j] += (p[i] - mean[i]) * (p[j] - mean[j]);
        return scatter;
    }

    static (int[] Rank, int[] Perm, double[] LogDet, double[] FactorT) Factor(GaussianKernels kernels, int d, long count, double[][] matrices)
    {
        var accelerator = kernels.Accelerator;
        var shape = new GaussianShape(matrices.Length, d);
        using var m2 = accelerator.Allocate1D(matrices.SelectMany(m => m).ToArray());
        using var work = accelerator.Allocate1D<double>(shape.MatrixLength);
        using var factorT = accelerator.Allocate1D<double>(shape.FactorLength);
        using var lowerT = accelerator.Allocate1D<double>(shape.FactorLength);
        using var mean = accelerator.Allocate1D<double>(shape.MeanLength);
        using var logDet = accelerator.Allocate1D<double>(shape.Replicates);
        using var rank = accelerator.Allocate1D<int>(shape.Replicates);
        using var perm = accelerator.Allocate1D<int>((long)shape.Replicates * d);
        var model = new GaussianModelViews
        {
            Mean = mean.View, FactorT = factorT.View, Rank = rank.View, LogDet = logDet.View, PivotLowerT = lowerT.View, Permutation = perm.View,
        };
        kernels.Factorize(shape, m2.View, count, model, work.View);
        kernels.Synchronize();
        return (rank.GetAsArray1D(), perm.GetAsArray1D(), logDet.GetAsArray1D(), factorT.GetAsArray1D());
    }
}
