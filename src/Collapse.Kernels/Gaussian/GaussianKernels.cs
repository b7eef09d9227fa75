using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Points;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Gaussian;

/// <summary>
/// Launchers for the batched Gaussian kernels. Every method serves all replicates of a batch in
/// one launch. On a CPU accelerator the GEMM-shaped loops run as SIMD C# (see <see cref="SimdGaussian"/>)
/// over the same buffers; the ILGPU kernels serve every other accelerator and the light operations.
/// </summary>
public sealed unsafe class GaussianKernels
{
    readonly Accelerator accelerator;
    public Accelerator Accelerator => accelerator;
    public RandomKernels Random { get; }

    /// <summary>Gathers and subsamples of the points the Gaussian kernels write.</summary>
    public PointKernels Points { get; }

    /// <summary>True when the CPU SIMD kernels serve sampling, moments and factorization.</summary>
    public bool UsesSimd { get; }

    readonly Action<Index1D, ArrayView<double>, long, int, int, int, ArrayView<double>, int> mean;
    readonly Action<Index1D, ArrayView<double>, long, int, int, int, ArrayView<double>, ArrayView<double>, int> scatter;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, double, double, int, int> mergeScatter;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, double, double, int> mergeMean;
    readonly Action<Index1D, ArrayView<double>, ArrayView<int>, int, int, double, ArrayView<double>, int> scatterFromFactor;
    readonly Action<Index1D, ArrayView<double>, double, int, int, int, int, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>, int> factorize;
    readonly Action<KernelConfig, ArrayView<double>, double, int, int, int, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>,
        ArrayView<int>, int, ArrayView<double>, int> factorizeGrouped;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<double>, long, long, int> transform;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, int, int, int, ArrayView<double>, int> meanNormAndTrace;
    readonly Action<Index1D, WishartDraw, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, int> wishart;
    readonly Action<KernelConfig, WishartDraw, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>> wishartGrouped;

    public GaussianKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto)
    {
        this.accelerator = accelerator;
        Random = new RandomKernels(accelerator);
        UsesSimd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU
                   && SimdNormals.IsSupported && Fma.IsSupported;
        Points = new PointKernels(accelerator, Random, UsesSimd);
        mean = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, long, int, int, int, ArrayView<double>, int>(MomentKernels.Mean).Serialized(accelerator);
        scatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, long, int, int, int, ArrayView<double>, ArrayView<double>, int>(MomentKernels.Scatter).Serialized(accelerator);
        mergeScatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, double, double, int, int>(MomentKernels.MergeScatter).Serialized(accelerator);
        mergeMean = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, double, double, int>(MomentKernels.MergeMean).Serialized(accelerator);
        scatterFromFactor = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<int>, int, int, double, ArrayView<double>, int>(MomentKernels.ScatterFromFactor).Serialized(accelerator);
        factorize = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, double, int, int, int, int, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>, int>(FactorKernels.PivotedCholesky).Serialized(accelerator);
        factorizeGrouped = accelerator.LoadStreamKernel<ArrayView<double>, double, int, int, int, ArrayView<int>, ArrayView<double>, ArrayView<int>, ArrayView<double>,
            ArrayView<int>, int, ArrayView<double>, int>(FactorKernels.PivotedCholeskyGrouped).Serialized(accelerator);
        GroupPerReplicate = !UsesSimd && LaunchSize.IsGpu(accelerator);
        FactorGroupSize = Math.Min(128, accelerator.MaxNumThreadsPerGroup);
        transform = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<float>, int, int, int, ArrayView<double>, long, long, int>(SampleKernels.Transform).Serialized(accelerator);
        meanNormAndTrace = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<int>, int, int, int, ArrayView<double>, int>(MetricKernels.MeanNormAndTrace).Serialized(accelerator);
        wishart = accelerator.LoadAutoGroupedStreamKernel<Index1D, WishartDraw, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, int>(WishartKernels.Draw).Serialized(accelerator);
        wishartGrouped = accelerator.LoadStreamKernel<WishartDraw, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<int>, ArrayView<double>>(WishartKernels.DrawGrouped).Serialized(accelerator);
    }

    /// <summary>
    /// Whether the ILGPU path factorizes and draws Wishart fits with one group per replicate
    /// (<see cref="FactorKernels.PivotedCholeskyGrouped"/>, <see cref="WishartKernels.DrawGrouped"/>;
    /// d ≤ <see cref="FactorKernels.MaxGroupedDim"/>) instead of one thread per replicate: on by default on a GPU
    /// (<see cref="LaunchSize.IsGpu"/>), where one thread per replicate leaves all but a few of its cores idle;
    /// tests turn it on for ILGPU's CPU accelerator and PoCL.
    /// </summary>
    public bool GroupPerReplicate { get; init; }

    /// <summary>Threads per group of the grouped kernels (128, or the device's maximum when smaller).</summary>
    public int FactorGroupSize { get; init; }

    int Threads(long items) => LaunchSize.For(accelerator, items);

    /// <summary>
    /// Draws m points per replicate from each fitted N(μ, F·Fᵀ) into points[r·replicateStride + p·ld + j],
    /// using normals number p·d + k of <paramref name="stream"/> for replicate firstReplicate + r.
    /// <paramref name="normals"/> is scratch of shape.Replicates·m·d floats (ILGPU path only).
    /// </summary>
    public void Sample(GaussianShape shape, RandomStream stream, int firstReplicate, GaussianModelViews model, int m,
        ArrayView<double> points, long replicateStride, ArrayView<float> normals)
    {
        var (d, ld, replicates) = (shape.Dim, shape.Stride, shape.Replicates);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var meanPtr = Ptr(model.Mean); var lPtr = Ptr(model.PivotLowerT); var xPtr = Ptr(points);
            var rankPtr = IntPtr(model.Rank); var permPtr = IntPtr(model.Permutation);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var z = ThreadScratch.Doubles(ThreadScratch.Normals, (long)m * d);
                SimdNormals.Fill(stream.ForReplicate((uint)(firstReplicate + r)), 0, new Span<double>(z, m * d));
                SimdGaussian.Transform(meanPtr + (long)r * d, lPtr + (long)r * d * ld, permPtr + (long)r * d, rankPtr[r],
                    z, m, d, ld, xPtr + r * replicateStride);
            });
            return;
        }
        Random.Normals(stream, firstReplicate, replicates, (long)m * d, normals.SubView(0, (long)replicates * m * d));
        var total = (long)replicates * m * d;
        transform(Threads(total), model.Mean, model.FactorT, model.Rank, normals, m, d, ld, points, replicateStride, total, Threads(total));
    }

    /// <summary>
    /// Whether a fit to m freshly drawn points of dimension d can skip drawing them
    /// (<see cref="DrawNormals"/> then <see cref="MomentsOfSample"/>): on the CPU SIMD path, once
    /// m ≥ 4·d, where the ⅔·d³ of the moments' algebra costs less than the m·d²/2 of the transform.
    /// </summary>
    public bool DefersSamples(int m, int d) => DeferSamples && UsesSimd && m >= 4 * d;

    /// <summary>Whether <see cref="DefersSamples"/> may say yes (on by default; tests turn it off to draw every sample at once).</summary>
    public bool DeferSamples { get; init; } = true;

    /// <summary>
    /// The standard normals <see cref="Sample"/> would transform (normal p·d + k of replicate
    /// firstReplicate + r's stream), as rows of ld doubles: d normals, then the padding left as it is.
    /// CPU SIMD path only (<see cref="DefersSamples"/>).
    /// </summary>
    public void DrawNormals(GaussianShape shape, RandomStream stream, int firstReplicate, int m, ArrayView<double> points, long replicateStride)
    {
        if (!UsesSimd) throw new InvalidOperationException("deferred samples are a CPU SIMD path; this kernel set runs ILGPU kernels");
        var (d, ld) = (shape.Dim, shape.Stride);
        accelerator.Synchronize();
        var xPtr = Ptr(points);
        Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
            SimdNormals.FillRows(stream.ForReplicate((uint)(firstReplicate + r)), m, d, ld, xPtr + r * replicateStride));
    }

    /// <summary>
    /// Turns the normals <see cref="DrawNormals"/> wrote into the points <see cref="Sample"/> would
    /// have drawn from them with the current model (the same bits), in place.
    /// </summary>
    public void SampleFromNormals(GaussianShape shape, GaussianModelViews model, int m, ArrayView<double> points, long replicateStride)
    {
        if (!UsesSimd) throw new InvalidOperationException("deferred samples are a CPU SIMD path; this kernel set runs ILGPU kernels");
        var (d, ld) = (shape.Dim, shape.Stride);
        accelerator.Synchronize();
        var meanPtr = Ptr(model.Mean); var lPtr = Ptr(model.PivotLowerT); var xPtr = Ptr(points);
        var rankPtr = IntPtr(model.Rank); var permPtr = IntPtr(model.Permutation);
        Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
        {
            var x = xPtr + r * replicateStride;
            var z = ThreadScratch.Doubles(ThreadScratch.Normals, (long)m * ld);
            Buffer.MemoryCopy(x, z, 8L * m * ld, 8L * m * ld);
            SimdGaussian.Transform(meanPtr + (long)r * d, lPtr + (long)r * d * ld, permPtr + (long)r * d, rankPtr[r], z, ld, m, d, ld, x,
                SimdGaussian.WideTransform(ld));
        });
    }

    /// <summary>
    /// Mean [r][d] and scatter M2 [r][d][d] of the m points per replicate that <see cref="Sample"/>
    /// would draw with the current model from the normals <see cref="DrawNormals"/> wrote, computed
    /// from the normals' moments (<see cref="SimdGaussian.MomentsOfTransform(double*, double*, int*, int, double*, int, int, int, double*, double*)"/>):
    /// equal to the moments of the drawn points up to rounding. <paramref name="meanView"/> may be the model's mean.
    /// </summary>
    public void MomentsOfSample(GaussianShape shape, GaussianModelViews model, ArrayView<double> normals, long replicateStride, int m,
        ArrayView<double> meanView, ArrayView<double> m2)
    {
        if (!UsesSimd) throw new InvalidOperationException("deferred samples are a CPU SIMD path; this kernel set runs ILGPU kernels");
        var (d, ld) = (shape.Dim, shape.Stride);
        accelerator.Synchronize();
        var zPtr = Ptr(normals); var meanPtr = Ptr(model.Mean); var lPtr = Ptr(model.PivotLowerT);
        var rankPtr = IntPtr(model.Rank); var permPtr = IntPtr(model.Permutation);
        var outMeanPtr = Ptr(meanView); var m2Ptr = Ptr(m2);
        Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
            SimdGaussian.MomentsOfTransform(meanPtr + (long)r * d, lPtr + (long)r * d * ld, permPtr + (long)r * d, rankPtr[r],
                zPtr + r * replicateStride, m, d, ld, outMeanPtr + (long)r * d, m2Ptr + (long)r * d * d));
    }

    /// <summary>Mean [r][d] and scatter M2 [r][d][d] of m points per replicate.</summary>
    public void Moments(GaussianShape shape, ArrayView<double> points, long replicateStride, int m,
        ArrayView<double> meanView, ArrayView<double> m2)
    {
        var (d, ld, replicates) = (shape.Dim, shape.Stride, shape.Replicates);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var xPtr = Ptr(points); var meanPtr = Ptr(meanView); var m2Ptr = Ptr(m2);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdGaussian.Moments(xPtr + r * replicateStride, m, d, ld, meanPtr + (long)r * d, m2Ptr + (long)r * d * d));
            return;
        }
        mean(Threads(shape.MeanLength), points, replicateStride, m, d, ld, meanView.SubView(0, shape.MeanLength), Threads(shape.MeanLength));
        scatter(Threads(shape.MatrixLength), points, replicateStride, m, d, ld, meanView, m2.SubView(0, shape.MatrixLength), Threads(shape.MatrixLength));
    }

    /// <summary>Chan's merge of summary B (count countB) into summary A (count countA), in place.</summary>
    public void Merge(GaussianShape shape, ArrayView<double> meanA, ArrayView<double> m2A, double countA,
        ArrayView<double> meanB, ArrayView<double> m2B, double countB)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var d = shape.Dim;
            var meanAPtr = Ptr(meanA); var m2APtr = Ptr(m2A); var meanBPtr = Ptr(meanB); var m2BPtr = Ptr(m2B);
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdGaussian.Merge(meanAPtr + (long)r * d, m2APtr + (long)r * d * d, countA, meanBPtr + (long)r * d,
                    m2BPtr + (long)r * d * d, countB, d, ThreadScratch.Doubles(ThreadScratch.Vector, d)));
            return;
        }
        mergeScatter(Threads(shape.MatrixLength), meanA, m2A.SubView(0, shape.MatrixLength), meanB, m2B, countA, countB, shape.Dim, Threads(shape.MatrixLength));
        mergeMean(Threads(shape.MeanLength), meanA.SubView(0, shape.MeanLength), meanB, countA, countB, Threads(shape.MeanLength));
    }

    /// <summary>M2 = scale·F·Fᵀ per replicate.</summary>
    public void ScatterFromFactor(GaussianShape shape, ArrayView<double> factorT, ArrayView<int> rank, double scale, ArrayView<double> m2)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var (d, ld) = (shape.Dim, shape.Stride);
            var fPtr = Ptr(factorT); var m2Ptr = Ptr(m2); var rankPtr = IntPtr(rank);
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdGaussian.Syrk(fPtr + (long)r * d * ld, rankPtr[r], d, ld, scale, m2Ptr + (long)r * d * d));
            return;
        }
        scatterFromFactor(Threads(shape.MatrixLength), factorT, rank, shape.Dim, shape.Stride, scale, m2.SubView(0, shape.MatrixLength), Threads(shape.MatrixLength));
    }

    /// <summary>
    /// Factorizes Σ = M2 / count per replicate (rank capped at min(d, count − 1)) into the model's
    /// factor, rank, log det, permutation (and, on the CPU path, pivot-order factor).
    /// <paramref name="work"/>: replicates·d·d doubles.
    /// </summary>
    public void Factorize(GaussianShape shape, ArrayView<double> m2, long count, GaussianModelViews model, ArrayView<double> work)
    {
        var (d, ld, replicates) = (shape.Dim, shape.Stride, shape.Replicates);
        var maxRank = (int)Math.Min(d, count - 1);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var m2Ptr = Ptr(m2); var workPtr = Ptr(work); var fPtr = Ptr(model.FactorT); var logPtr = Ptr(model.LogDet);
            var lPtr = Ptr(model.PivotLowerT); var rankPtr = IntPtr(model.Rank); var permPtr = IntPtr(model.Permutation);
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                rankPtr[r] = SimdGaussian.PivotedCholesky(m2Ptr + (long)r * d * d, 1.0 / count, maxRank, d, ld,
                    workPtr + (long)r * d * d, permPtr + (long)r * d, ThreadScratch.Doubles(ThreadScratch.Vector, 2L * d),
                    fPtr + (long)r * d * ld, lPtr + (long)r * d * ld, out logPtr[r]));
            return;
        }
        if (GroupPerReplicate && d <= FactorKernels.MaxGroupedDim)
        {
            // No per-replicate cap and no pivot-order copy here: those two views are passed only to fill the signature.
            factorizeGrouped(new KernelConfig(replicates, FactorGroupSize), m2, 1.0 / count, maxRank, d, ld, model.Permutation, model.FactorT,
                model.Rank, model.LogDet, model.Rank, 0, model.FactorT, 0);
            return;
        }
        factorize(Threads(replicates), m2, 1.0 / count, maxRank, replicates, d, ld, work, model.Permutation, model.FactorT,
            model.Rank, model.LogDet, Threads(replicates));
    }

    /// <summary>The exact sampling distribution of a fit to n points from each replicate's model (see <see cref="WishartKernels"/>).</summary>
    public void DrawWishart(GaussianShape shape, RandomStream normalStream, RandomStream chiSquareStream, int firstReplicate, int n,
        ArrayView<double> meanView, ArrayView<double> factorT, ArrayView<int> rank,
        ArrayView<double> generationMean, ArrayView<double> generationFactorT, ArrayView<int> generationRank, ArrayView<double> logDetIncrement)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var (d, ld) = (shape.Dim, shape.Stride);
            var meanPtr = Ptr(meanView); var fPtr = Ptr(factorT); var rankPtr = IntPtr(rank);
            var gMeanPtr = Ptr(generationMean); var gPtr = Ptr(generationFactorT); var gRankPtr = IntPtr(generationRank);
            var incPtr = Ptr(logDetIncrement);
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var replicate = (uint)(firstReplicate + r);
                gRankPtr[r] = SimdGaussian.WishartDraw(normalStream.ForReplicate(replicate), chiSquareStream.ForReplicate(replicate),
                    n, d, ld, meanPtr + (long)r * d, fPtr + (long)r * d * ld, rankPtr[r], gMeanPtr + (long)r * d,
                    gPtr + (long)r * d * ld, ThreadScratch.Floats(d + (long)d * d), out incPtr[r]);
            });
            return;
        }
        var draw = new WishartDraw
        {
            NormalStream = normalStream, ChiSquareStream = chiSquareStream, FirstReplicate = firstReplicate,
            Replicates = shape.Replicates, N = n, Dim = shape.Dim, Stride = shape.Stride,
        };
        if (GroupPerReplicate && shape.Dim <= FactorKernels.MaxGroupedDim)
        {
            wishartGrouped(new KernelConfig(shape.Replicates, FactorGroupSize), draw, meanView, factorT, rank, generationMean, generationFactorT,
                generationRank, logDetIncrement);
            return;
        }
        wishart(Threads(shape.Replicates), draw, meanView, factorT, rank, generationMean, generationFactorT, generationRank, logDetIncrement,
            Threads(shape.Replicates));
    }

    /// <summary>output[2r] = ‖μ_r‖², output[2r + 1] = tr Σ_r, for every replicate.</summary>
    public void MeanNormAndTrace(GaussianShape shape, GaussianModelViews model, ArrayView<double> output)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var (d, ld) = (shape.Dim, shape.Stride);
            var meanPtr = Ptr(model.Mean); var fPtr = Ptr(model.FactorT); var rankPtr = IntPtr(model.Rank); var outPtr = Ptr(output);
            Parallel.For(0, shape.Replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var norm = 0.0;
                for (var j = 0; j < d; j++) norm += meanPtr[(long)r * d + j] * meanPtr[(long)r * d + j];
                var trace = 0.0;
                var f = fPtr + (long)r * d * ld;
                for (long e = 0; e < (long)rankPtr[r] * ld; e++) trace += f[e] * f[e];
                outPtr[2L * r] = norm;
                outPtr[2L * r + 1] = trace;
            });
            return;
        }
        meanNormAndTrace(Threads(shape.Replicates), model.Mean, model.FactorT, model.Rank, shape.Replicates, shape.Dim, shape.Stride,
            output, Threads(shape.Replicates));
    }

    public void Synchronize() => accelerator.Synchronize();

    static double* Ptr(ArrayView<double> view) => (double*)view.LoadEffectiveAddressAsPtr();
    static int* IntPtr(ArrayView<int> view) => (int*)view.LoadEffectiveAddressAsPtr();
}
