using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Points;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Regression;

/// <summary>
/// Launchers for the batched least-squares kernels (<see cref="LeastSquaresKernels"/>): every method
/// serves all replicates of a batch in one launch. On a CPU accelerator the row loops run as C#
/// over the same buffers (the Gram as <see cref="SimdGaussian.Syrk"/>, its factor as
/// <see cref="SimdGaussian.PivotedCholesky"/>); the ILGPU kernels serve every other accelerator.
/// </summary>
public sealed unsafe class RegressionKernels
{
    readonly Accelerator accelerator;
    public Accelerator Accelerator => accelerator;
    public RandomKernels Random { get; }

    /// <summary>Subsample index draws (shared with the point families).</summary>
    public PointKernels Points { get; }

    /// <summary>True when C# loops serve the CPU accelerator.</summary>
    public bool UsesSimd { get; }

    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, double, int, int, int, ArrayView<double>, int> labels;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, double, int, long, int, int, ArrayView<double>, int> rhs;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int, double, int, long, int, int, ArrayView<double>, int> gram;
    readonly Action<Index1D, ArrayView<int>, ArrayView<double>, int, int, ArrayView<double>, ArrayView<double>, ArrayView<int>, int, int> tally;
    readonly Action<Index1D, ArrayView<double>, ArrayView<int>, int, int, ArrayView<int>, ArrayView<int>, int> factor;
    readonly Action<KernelConfig, ArrayView<double>, double, int, int, int, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>,
        ArrayView<int>, int, ArrayView<double>, int> factorGrouped;
    readonly Action<Index1D, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int, int, int, ArrayView<double>, ArrayView<double>, int> solve;
    readonly Action<Index1D, ArrayView<double>, ArrayView<int>, ArrayView<int>, int, int, int, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int> pseudoInverse;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int, int, int, ArrayView<double>, int> matVec;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int, int, ArrayView<double>, int> errors;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int> addInto;
    readonly Action<Index1D, ArrayView<float>, int, int, ArrayView<double>, int> rows;
    readonly Action<Index1D, ArrayView<double>, long, ArrayView<int>, int, int, ArrayView<double>, ArrayView<int>, int> gatherLabels;

    public RegressionKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto)
    {
        this.accelerator = accelerator;
        Random = new RandomKernels(accelerator);
        UsesSimd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU && SimdNormals.IsSupported && Fma.IsSupported;
        Points = new PointKernels(accelerator, Random, UsesSimd);
        labels = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, double, int, int, int, ArrayView<double>, int>(LeastSquaresKernels.Labels).Serialized(accelerator);
        rhs = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, double, int, long, int, int, ArrayView<double>, int>(LeastSquaresKernels.Rhs).Serialized(accelerator);
        gram = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, double, int, long, int, int, ArrayView<double>, int>(LeastSquaresKernels.WeightedGram).Serialized(accelerator);
        tally = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<double>, int, int, ArrayView<double>, ArrayView<double>, ArrayView<int>, int, int>(LeastSquaresKernels.Tally).Serialized(accelerator);
        factor = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<int>, int, int, ArrayView<int>, ArrayView<int>, int>(LeastSquaresKernels.Factor).Serialized(accelerator);
        factorGrouped = accelerator.LoadStreamKernel<ArrayView<double>, double, int, int, int, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>,
            ArrayView<int>, int, ArrayView<double>, int>(Gaussian.FactorKernels.PivotedCholeskyGrouped).Serialized(accelerator);
        GroupPerReplicate = !UsesSimd && LaunchSize.IsGpu(accelerator);
        FactorGroupSize = Math.Min(128, accelerator.MaxNumThreadsPerGroup);
        solve = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>, int, int, int, ArrayView<double>, ArrayView<double>, int>(LeastSquaresKernels.Solve).Serialized(accelerator);
        pseudoInverse = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<int>, ArrayView<int>, int, int, int, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int>(LeastSquaresKernels.PseudoInverse).Serialized(accelerator);
        matVec = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, int, int, ArrayView<double>, int>(LeastSquaresKernels.MatVec).Serialized(accelerator);
        errors = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int, int, ArrayView<double>, int>(LeastSquaresKernels.Errors).Serialized(accelerator);
        addInto = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int>(LeastSquaresKernels.AddInto).Serialized(accelerator);
        rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<double>, int>(LeastSquaresKernels.Rows).Serialized(accelerator);
        gatherLabels = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, long, ArrayView<int>, int, int, ArrayView<double>, ArrayView<int>, int>(LeastSquaresKernels.GatherLabels).Serialized(accelerator);
    }

    /// <summary>
    /// Whether the ILGPU path factors the Grams with one group per replicate (<c>FactorKernels.PivotedCholeskyGrouped</c>,
    /// d ≤ 100) instead of one thread per replicate: by default on a GPU only, as for the Gaussian family.
    /// </summary>
    public bool GroupPerReplicate { get; init; }

    /// <summary>Threads per group of the grouped factorization.</summary>
    public int FactorGroupSize { get; init; }

    /// <summary>Doubles of <see cref="Factor"/>'s scratch for a batch: the CPU path's two d × ld factors, the grouped kernel's one and a log det.</summary>
    public long FactorScratchLength(int replicates, int d)
    {
        long ld = Gaussian.GaussianShape.StrideOf(d);
        return UsesSimd ? 2L * replicates * d * ld : (long)replicates * (d * ld + 1);
    }

    int Threads(long items) => LaunchSize.For(accelerator, items);

    // Where the CPU path runs a one-thread-per-replicate kernel body (the tally), it calls it from .NET
    // as thread r with stride = replicates, so each call serves exactly replicate r.

    /// <summary>
    /// Standard normal rows: output[r, p, k] = normal number p·d + k of the stream for replicate
    /// firstReplicate + r, m rows of ld doubles per replicate (padding left as it is: zero).
    /// <paramref name="normals"/>: replicates·m·d floats of scratch (ILGPU path only).
    /// </summary>
    public void NormalRows(RandomStream stream, int firstReplicate, int replicates, int m, int d, int ld, ArrayView<double> output, ArrayView<float> normals)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var outPtr = Ptr(output);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var z = ThreadScratch.Doubles(ThreadScratch.Normals, (long)m * d);
                SimdNormals.Fill(stream.ForReplicate((uint)(firstReplicate + r)), 0, new Span<double>(z, m * d));
                for (var p = 0; p < m; p++)
                    new Span<double>(z + (long)p * d, d).CopyTo(new Span<double>(outPtr + ((long)r * m + p) * ld, d));
            });
            return;
        }
        var count = (long)replicates * m * d;
        Random.Normals(stream, firstReplicate, replicates, (long)m * d, normals.SubView(0, count));
        rows(Threads(count), normals.SubView(0, count), d, ld, output, Threads(count));
    }

    /// <summary>
    /// Labels of every design row: y[r, i] = x[r, i]·w[r] + σ·(normal i of the stream for replicate
    /// firstReplicate + r). <paramref name="normals"/>: replicates·n floats (ILGPU path only).
    /// </summary>
    public void Labels(RegressionShape shape, RandomStream stream, int firstReplicate, ArrayView<double> design, ArrayView<double> weights,
        double sigma, ArrayView<double> output, ArrayView<float> normals)
    {
        var (n, d, ld) = (shape.N, shape.Dim, shape.Stride);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var xPtr = Ptr(design); var wPtr = Ptr(weights); var yPtr = Ptr(output);
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var z = ThreadScratch.Doubles(ThreadScratch.Normals, n);
                SimdNormals.Fill(stream.ForReplicate((uint)(firstReplicate + r)), 0, new Span<double>(z, n));
                SimdRegression.Labels(xPtr + (long)r * n * ld, wPtr + (long)r * ld, z, sigma, n, ld, yPtr + (long)r * n);
            });
            return;
        }
        Random.Normals(stream, firstReplicate, shape.Replicates, n, normals.SubView(0, shape.LabelsLength));
        labels(Threads(shape.LabelsLength), design, weights, normals, sigma, n, d, ld, output.SubView(0, shape.LabelsLength), Threads(shape.LabelsLength));
    }

    /// <summary>b[r] = scale·X[r]ᵀ s[r] over the whole design (ld doubles per replicate, padding zero).</summary>
    public void Rhs(RegressionShape shape, ArrayView<double> design, ArrayView<double> sums, double scale, ArrayView<double> output) =>
        Rhs(shape.Replicates, shape.N, shape.N, shape.Dim, shape.Stride, design, sums, scale, output);

    /// <summary>b[r] = scale·Σ_{i &lt; n} s[r, i]·x[r, i] over the first n of <paramref name="rowStride"/> rows (and labels) per replicate.</summary>
    public void Rhs(int replicates, int n, long rowStride, int d, int ld, ArrayView<double> design, ArrayView<double> sums, double scale, ArrayView<double> output)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var xPtr = Ptr(design); var sPtr = Ptr(sums); var bPtr = Ptr(output);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdRegression.Rhs(xPtr + r * rowStride * ld, sPtr + r * rowStride, scale, n, ld, bPtr + (long)r * ld));
            return;
        }
        var length = (long)replicates * ld;
        rhs(Threads(length), design, sums, scale, n, rowStride, d, ld, output.SubView(0, length), Threads(length));
    }

    /// <summary>
    /// G[r] = scale·Σ_p c[r, p]·x_p x_pᵀ over the first m of <paramref name="rowStride"/> rows (m when null) of ld
    /// doubles per replicate (every c = 1 when <paramref name="weights"/> is empty, else c strided like the rows).
    /// <paramref name="scaled"/>: replicates·m·ld doubles of scratch for the CPU path's weighted rows.
    /// </summary>
    public void Gram(int replicates, int m, int d, int ld, ArrayView<double> rowsView, ArrayView<double> weights, double scale,
        ArrayView<double> output, ArrayView<double> scaled, long? rowStride = null)
    {
        var weighted = weights.Length > 0;
        var strideRows = rowStride ?? m;
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var xPtr = Ptr(rowsView); var cPtr = weighted ? Ptr(weights) : null; var gPtr = Ptr(output);
            var sPtr = weighted ? Ptr(scaled) : null;
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var source = xPtr + r * strideRows * ld;
                var count = m;
                if (weighted)
                {
                    // Each picked row once, scaled by √(copies): Σ c·x xᵀ over distinct rows, unpicked rows skipped.
                    var target = sPtr + (long)r * m * ld;
                    count = 0;
                    for (var p = 0; p < m; p++)
                    {
                        var c = cPtr[r * strideRows + p];
                        if (c == 0.0) continue;
                        var root = Vector256.Create(Math.Sqrt(c));
                        for (var k = 0; k < ld; k += 4)
                            (Vector256.Load(source + (long)p * ld + k) * root).Store(target + (long)count * ld + k);
                        count++;
                    }
                    source = target;
                }
                SimdGaussian.Syrk(source, count, d, ld, scale, gPtr + (long)r * d * d);
            });
            return;
        }
        var length = (long)replicates * d * d;
        gram(Threads(length), rowsView, weighted ? weights : rowsView, weighted ? 1 : 0, scale, m, strideRows, d, ld, output.SubView(0, length), Threads(length));
    }

    /// <summary>A subsample's per-row weights, label sums and distinct-row counts (see <see cref="LeastSquaresKernels.Tally"/>).</summary>
    public void Tally(RegressionShape shape, ArrayView<int> rowOf, ArrayView<double> subsampleLabels, int count,
        ArrayView<double> weights, ArrayView<double> sums, ArrayView<int> distinct)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
                LeastSquaresKernels.Tally(r, rowOf, subsampleLabels, count, shape.N, weights, sums, distinct, shape.Replicates, shape.Replicates));
            return;
        }
        tally(Threads(shape.Replicates), rowOf, subsampleLabels, count, shape.N, weights, sums, distinct, shape.Replicates, Threads(shape.Replicates));
    }

    /// <summary>
    /// Pivoted Cholesky of every G[r] with rank at most maxRank[r]: L (pivot order) into
    /// <paramref name="factorView"/> [r][d][d], the order and rank. <paramref name="scratch"/>: <see cref="FactorScratchLength"/> doubles.
    /// </summary>
    public void Factor(int replicates, int d, int ld, ArrayView<double> gramView, ArrayView<int> maxRank, ArrayView<double> factorView,
        ArrayView<int> perm, ArrayView<int> rank, ArrayView<double> scratch)
    {
        var length = (long)replicates * d * d;
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var gPtr = Ptr(gramView); var lPtr = Ptr(factorView); var permPtr = IntPtr(perm); var rankPtr = IntPtr(rank);
            var capPtr = IntPtr(maxRank); var sPtr = Ptr(scratch);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var s = sPtr + 2L * r * d * ld;
                rankPtr[r] = SimdGaussian.PivotedCholesky(gPtr + (long)r * d * d, 1.0, Math.Min(d, capPtr[r]), d, ld, lPtr + (long)r * d * d,
                    permPtr + (long)r * d, ThreadScratch.Doubles(ThreadScratch.Vector, 2L * d), s, s + (long)d * ld, out _);
            });
            return;
        }
        if (GroupPerReplicate && d <= Gaussian.FactorKernels.MaxGroupedDim)
        {
            var factorT = scratch.SubView(0, (long)replicates * d * ld);
            var logDet = scratch.SubView((long)replicates * d * ld, replicates);
            factorGrouped(new KernelConfig(replicates, FactorGroupSize), gramView, 1.0, d, d, ld, perm, factorT, rank, logDet,
                maxRank, 1, factorView, 1);
            return;
        }
        gramView.SubView(0, length).CopyTo(factorView.SubView(0, length));
        factor(Threads(replicates), factorView, maxRank, replicates, d, perm, rank, Threads(replicates));
    }

    /// <summary>w[r] = G[r]⁺ b[r] from the factor (<see cref="LeastSquaresKernels.Solve"/>). <paramref name="scratch"/>: replicates·<see cref="RegressionShape.SolveScratchPerReplicate"/> doubles.</summary>
    public void Solve(RegressionShape shape, ArrayView<double> factorView, ArrayView<int> perm, ArrayView<int> rank, ArrayView<double> rhsView,
        ArrayView<double> scratch, ArrayView<double> solution)
    {
        var (replicates, d, ld) = (shape.Replicates, shape.Dim, shape.Stride);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var lPtr = Ptr(factorView); var permPtr = IntPtr(perm); var rankPtr = IntPtr(rank); var bPtr = Ptr(rhsView); var wPtr = Ptr(solution);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdRegression.Solve(lPtr + (long)r * d * d, permPtr + (long)r * d, rankPtr[r], bPtr + (long)r * ld, d,
                    ThreadScratch.Doubles(ThreadScratch.Centred, (long)d * d + 2L * d), wPtr + (long)r * ld));
            return;
        }
        solve(Threads(replicates), factorView, perm, rank, rhsView, replicates, d, ld, scratch, solution, Threads(replicates));
    }

    /// <summary>G[r]⁺ as a d × d matrix per replicate from the factor. <paramref name="vectors"/>: replicates·2·ld doubles of scratch.</summary>
    public void PseudoInverse(RegressionShape shape, ArrayView<double> factorView, ArrayView<int> perm, ArrayView<int> rank,
        ArrayView<double> scratch, ArrayView<double> vectors, ArrayView<double> inverse)
    {
        var (replicates, d, ld) = (shape.Replicates, shape.Dim, shape.Stride);
        var unit = vectors.SubView(0, shape.VectorLength);
        var column = vectors.SubView(shape.VectorLength, shape.VectorLength);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var lPtr = Ptr(factorView); var permPtr = IntPtr(perm); var rankPtr = IntPtr(rank); var inversePtr = Ptr(inverse);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdRegression.PseudoInverse(lPtr + (long)r * d * d, permPtr + (long)r * d, rankPtr[r], d,
                    ThreadScratch.Doubles(ThreadScratch.Centred, 2L * d * d), inversePtr + (long)r * d * d));
            return;
        }
        pseudoInverse(Threads(replicates), factorView, perm, rank, replicates, d, ld, unit, scratch, column, inverse, Threads(replicates));
    }

    /// <summary>w[r] = A[r]·b[r] (d × d by ld-strided vectors).</summary>
    public void MatVec(RegressionShape shape, ArrayView<double> matrix, ArrayView<double> vector, ArrayView<double> output)
    {
        var (replicates, d, ld) = (shape.Replicates, shape.Dim, shape.Stride);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var aPtr = Ptr(matrix); var bPtr = Ptr(vector); var wPtr = Ptr(output);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdRegression.MatVec(aPtr + (long)r * d * d, bPtr + (long)r * ld, d, wPtr + (long)r * ld));
            return;
        }
        var items = (long)replicates * d;
        matVec(Threads(items), matrix, vector, replicates, d, ld, output, Threads(items));
    }

    /// <summary>output[2r] = test MSE δᵀ G_test δ, output[2r + 1] = ‖δ‖², δ = ŵ − w*.</summary>
    public void Errors(RegressionShape shape, ArrayView<double> fitted, ArrayView<double> truth, ArrayView<double> testGram, ArrayView<double> output)
    {
        var (replicates, d, ld) = (shape.Replicates, shape.Dim, shape.Stride);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var fPtr = Ptr(fitted); var tPtr = Ptr(truth); var gPtr = Ptr(testGram); var outPtr = Ptr(output);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var (quadratic, squared) = SimdRegression.Errors(fPtr + (long)r * ld, tPtr + (long)r * ld, gPtr + (long)r * d * d, d,
                    ThreadScratch.Doubles(ThreadScratch.Vector, d));
                outPtr[2L * r] = quadratic;
                outPtr[2L * r + 1] = squared;
            });
            return;
        }
        errors(Threads(replicates), fitted, truth, testGram, replicates, d, ld, output, Threads(replicates));
    }

    /// <summary>target += source, elementwise over the whole view.</summary>
    public void AddInto(ArrayView<double> target, ArrayView<double> source)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var tPtr = Ptr(target); var sPtr = Ptr(source);
            for (long i = 0; i < target.Length; i++) tPtr[i] += sPtr[i];
            return;
        }
        addInto(Threads(target.Length), target, source, Threads(target.Length));
    }

    /// <summary>A subsample's labels from the pool and the design row of each (see <see cref="LeastSquaresKernels.GatherLabels"/>).</summary>
    public void GatherLabels(int replicates, ArrayView<double> pool, long capacity, ArrayView<int> index, int count, int n,
        ArrayView<double> output, ArrayView<int> rowOf)
    {
        var length = (long)replicates * count;
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var poolPtr = Ptr(pool); var indexPtr = IntPtr(index); var yPtr = Ptr(output); var rowPtr = IntPtr(rowOf);
            for (long item = 0; item < length; item++)
            {
                var source = indexPtr[item];
                yPtr[item] = poolPtr[item / count * capacity + source];
                rowPtr[item] = source % n;
            }
            return;
        }
        gatherLabels(Threads(length), pool, capacity, index, count, n, output.SubView(0, length), rowOf, Threads(length));
    }

    public void Synchronize() => accelerator.Synchronize();

    static double* Ptr(ArrayView<double> view) => (double*)view.LoadEffectiveAddressAsPtr();
    static int* IntPtr(ArrayView<int> view) => (int*)view.LoadEffectiveAddressAsPtr();
}
