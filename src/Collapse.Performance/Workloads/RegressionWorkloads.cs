using Collapse.Kernels.Regression;

namespace Collapse.Performance.Workloads;

/// <summary>
/// Accumulate-Subsample's least-squares fit, the regression family's heaviest step: for R replicates,
/// the weighted Gram XᵀCX of n design rows (C: how often each row was picked, 0 to 3 here), its pivoted
/// Cholesky, Xᵀs and the solve. Work: R·(m·d² + d³/3 + 2n·d + 2d²) flops with m the picked rows (the
/// Gram's lower triangle as multiply-adds).
/// </summary>
public sealed class RegressionFitWorkload : IKernelWorkload
{
    readonly RegressionKernels kernels;
    readonly RegressionShape shape;
    readonly MemoryBuffer1D<double, Stride1D.Dense> design, weights, sums, gram, factor, rhs, solution, scaled, factorScratch, solveScratch;
    readonly MemoryBuffer1D<int, Stride1D.Dense> perm, rank, maxRank;
    readonly double[] hostDesign, hostWeights, hostSums, hostGram, hostLower, hostRhs;

    public RegressionFitWorkload(Accelerator accelerator, KernelPath path, int dim, int n, int replicates)
    {
        kernels = new RegressionKernels(accelerator, path);
        shape = new RegressionShape(replicates, dim, n);
        var ld = shape.Stride;
        hostDesign = HostData.Points(replicates, n, dim, ld, 1);
        // A subsample's copies per row, as n drawn from a pool of several generations give: 3 rows in 8 unpicked, 3 once, one twice, one 3 times.
        var stream = new RandomStream(1, 0, 0, 2);
        hostWeights = [.. Enumerable.Range(0, replicates * n).Select(i => Copies(i % n))];
        hostSums = [.. Enumerable.Range(0, replicates * n).Select(i => hostWeights[i] * Philox.Normal(stream, (ulong)i))];
        design = accelerator.Allocate1D(hostDesign);
        weights = accelerator.Allocate1D(hostWeights);
        sums = accelerator.Allocate1D(hostSums);
        gram = accelerator.Allocate1D<double>(shape.MatrixLength);
        factor = accelerator.Allocate1D<double>(shape.MatrixLength);
        rhs = accelerator.Allocate1D<double>(shape.VectorLength);
        solution = accelerator.Allocate1D<double>(shape.VectorLength);
        scaled = accelerator.Allocate1D<double>(shape.DesignLength);
        factorScratch = accelerator.Allocate1D<double>(2L * replicates * dim * ld);
        solveScratch = accelerator.Allocate1D<double>(replicates * shape.SolveScratchPerReplicate);
        perm = accelerator.Allocate1D<int>((long)replicates * dim);
        rank = accelerator.Allocate1D<int>(replicates);
        maxRank = accelerator.Allocate1D(Enumerable.Repeat(dim, replicates).ToArray());
        (hostGram, hostLower, hostRhs) = (new double[dim * dim], new double[dim * dim], new double[dim]);
    }

    static double Copies(int row) => (row % 8) switch { < 3 => 0, < 6 => 1, 6 => 2, _ => 3 };

    public static Work WorkFor(int dim, int n, int replicates)
    {
        var picked = Enumerable.Range(0, n).Count(i => Copies(i) > 0);
        return new((double)replicates * (picked * (double)dim * dim + Math.Pow(dim, 3) / 3 + 2.0 * n * dim + 2.0 * dim * dim), WorkUnit.Flop);
    }

    public Work Work => WorkFor(shape.Dim, shape.N, shape.Replicates);

    public void Run()
    {
        var (d, ld) = (shape.Dim, shape.Stride);
        kernels.Gram(shape.Replicates, shape.N, d, ld, design.View, weights.View, 1.0, gram.View, scaled.View);
        kernels.Factor(shape.Replicates, d, ld, gram.View, maxRank.View, factor.View, perm.View, rank.View, factorScratch.View);
        kernels.Rhs(shape, design.View, sums.View, 1.0, rhs.View);
        kernels.Solve(shape, factor.View, perm.View, rank.View, rhs.View, solveScratch.View, solution.View);
        kernels.Synchronize();
    }

    public void RunReference()
    {
        var (n, d, ld) = (shape.N, shape.Dim, shape.Stride);
        for (var r = 0; r < shape.Replicates; r++)
        {
            Array.Clear(hostGram);
            Array.Clear(hostRhs);
            for (var i = 0; i < n; i++)
            {
                var c = hostWeights[r * n + i];
                var row = hostDesign.AsSpan((r * n + i) * ld, d);
                for (var a = 0; a < d; a++)
                {
                    hostRhs[a] += row[a] * hostSums[r * n + i];
                    if (c == 0) continue;
                    for (var b = 0; b <= a; b++) hostGram[a * d + b] += c * row[a] * row[b];
                }
            }
            for (var a = 0; a < d; a++)
                for (var b = 0; b < a; b++) hostGram[b * d + a] = hostGram[a * d + b];
            PlainGaussian.Cholesky(hostGram, 1.0, d, hostLower);
            // L z = b, then Lᵀ w = z, in place.
            for (var a = 0; a < d; a++)
            {
                var v = hostRhs[a];
                for (var b = 0; b < a; b++) v -= hostLower[a * d + b] * hostRhs[b];
                hostRhs[a] = v / hostLower[a * d + a];
            }
            for (var a = d - 1; a >= 0; a--)
            {
                var v = hostRhs[a];
                for (var b = a + 1; b < d; b++) v -= hostLower[b * d + a] * hostRhs[b];
                hostRhs[a] = v / hostLower[a * d + a];
            }
        }
    }

    /// <summary>The fits of the last run, [replicate][ld].</summary>
    internal double[] Solution() => solution.GetAsArray1D();

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer[] { design, weights, sums, gram, factor, rhs, solution, scaled, factorScratch, solveScratch, perm, rank, maxRank })
            b.Dispose();
    }
}
