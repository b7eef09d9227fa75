using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Kde;

/// <summary>
/// Launchers for the KDE scoring kernels. On a CPU accelerator with AVX2 the scoring runs as SIMD
/// C# (<see cref="SimdKde"/>, exp-heavy loops where ILGPU's CPU backend is slow); elsewhere the
/// ILGPU kernels.
/// </summary>
public sealed unsafe class KdeKernels
{
    readonly Accelerator accelerator;
    readonly Action<Index1D, ArrayView<double>, int, ArrayView<double>, long, int, int, double, ArrayView<double>, long, int> accumulate;
    readonly Action<KernelConfig, ArrayView<double>, int, ArrayView<double>, long, int, int, double, ArrayView<double>, int, int, ArrayView<double>> accumulateTiled;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, int, int> mergePartials;
    // The splits' partial states, kept between calls (grown when a call needs more).
    MemoryBuffer1D<double, Stride1D.Dense>? partials;
    readonly Action<Index1D, ArrayView<double>, int> reset;
    readonly Action<Index1D, ArrayView<double>, int, long, int, double, ArrayView<double>, int> meanNll;
    readonly Action<Index1D, Random.RandomStream, Random.RandomStream, int, ArrayView<double>, long, int, int, double, int, ArrayView<double>, long, int> sample;

    public bool UsesSimd { get; }

    /// <summary>
    /// The CPU path's bound on skipped terms: each call's sum for a test point is exact to this relative
    /// error (default <see cref="SimdKde.DefaultTolerance"/>; 0 scores every pair). The ILGPU kernels score every pair.
    /// </summary>
    public double SkipTolerance
    {
        get => skipTolerance;
        set => skipTolerance = value >= 0 && value < 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "a relative bound in [0, 1)");
    }
    double skipTolerance = SimdKde.DefaultTolerance;

    /// <summary>Test points per CPU work item.</summary>
    const int TestBlock = 128;

    /// <summary>Samples per CPU work item, so that few replicates still spread over the cores.</summary>
    const int SampleBlock = 4096;

    public KdeKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto)
    {
        this.accelerator = accelerator;
        UsesSimd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU && SimdKde.IsSupported;
        accumulate = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, ArrayView<double>, long, int, int, double, ArrayView<double>, long, int>(KdeScoreKernels.Accumulate).Serialized(accelerator);
        accumulateTiled = accelerator.LoadStreamKernel<ArrayView<double>, int, ArrayView<double>, long, int, int, double, ArrayView<double>, int, int, ArrayView<double>>(KdeScoreKernels.AccumulateTiled).Serialized(accelerator);
        mergePartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, int>(KdeScoreKernels.MergePartials).Serialized(accelerator);
        reset = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int>(KdeScoreKernels.Reset).Serialized(accelerator);
        meanNll = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, long, int, double, ArrayView<double>, int>(KdeScoreKernels.MeanNegativeLogLikelihood).Serialized(accelerator);
        sample = accelerator.LoadAutoGroupedStreamKernel<Index1D, Random.RandomStream, Random.RandomStream, int, ArrayView<double>, long, int, int, double, int, ArrayView<double>, long, int>(KdeSampleKernels.Sample).Serialized(accelerator);
    }

    /// <summary>Empties every test point's running log-sum-exp; state is replicates·testCount·2 doubles.</summary>
    public void Reset(ArrayView<double> state)
    {
        if (UsesSimd)
        {
            // An ILGPU launch on the CPU accelerator costs about a millisecond, more than this loop.
            accelerator.Synchronize();
            var p = (double*)state.LoadEffectiveAddressAsPtr();
            for (long i = 0; i < state.Length; i += 2) (p[i], p[i + 1]) = (double.NegativeInfinity, 0.0);
            return;
        }
        reset(LaunchSize.For(accelerator, state.Length / 2), state, LaunchSize.For(accelerator, state.Length / 2));
    }

    /// <summary>
    /// Adds fittedCount fitted points per replicate (points [replicate][point][dim]) to every test
    /// point's running log-sum-exp of −‖t − x‖²/(2h²). CPU: SIMD C# (or ILGPU's grid-stride kernel
    /// when the ILGPU path is forced); GPU: the tiled kernel (grid-stride above its largest dim). Returns the
    /// pairs skipped by the CPU path's bound (<see cref="SkipTolerance"/>; the ILGPU kernels skip none).
    /// </summary>
    public long Accumulate(int replicates, int dim, ArrayView<double> test, int testCount, ArrayView<double> fitted,
        long fittedReplicateStride, int fittedCount, double bandwidth, ArrayView<double> state)
    {
        var inverseTwoH2 = 1.0 / (2 * bandwidth * bandwidth);
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var testPtr = (double*)test.LoadEffectiveAddressAsPtr();
            var fittedPtr = (double*)fitted.LoadEffectiveAddressAsPtr();
            var statePtr = (double*)state.LoadEffectiveAddressAsPtr();
            // Work items are replicates when there are enough to keep every core busy, else (replicate, block of test
            // points); each item puts its replicate's fitted points in leaf order (a few percent of its work).
            var blocks = replicates >= 4 * Environment.ProcessorCount ? 1 : (testCount + TestBlock - 1) / TestBlock;
            var block = (testCount + blocks - 1) / blocks;
            var tolerance = SkipTolerance;
            long scored = 0;
            Parallel.For(0, (long)replicates * blocks, CpuParallel.OneWorkerPerCore, item =>
            {
                var (r, first) = (item / blocks, (int)(item % blocks) * block);
                if (first >= testCount) return;
                var leaves = SimdKde.Order(fittedPtr + r * fittedReplicateStride, fittedCount, dim,
                    ThreadScratch.Doubles(ThreadScratch.Centred, SimdKde.ScratchLength(fittedCount, dim)), ThreadScratch.Ints(ThreadScratch.KdeOrder, fittedCount));
                var pairs = SimdKde.Accumulate(testPtr + (r * testCount + first) * dim, Math.Min(block, testCount - first), leaves,
                    inverseTwoH2, tolerance, statePtr + 2 * (r * testCount + first), ThreadScratch.Doubles(ThreadScratch.KdeValues, SimdKde.Leaf),
                    ThreadScratch.Doubles(ThreadScratch.KdeBounds, leaves.LeafCount), ThreadScratch.Ints(ThreadScratch.KdeKept, leaves.LeafCount));
                Interlocked.Add(ref scored, pairs);
            });
            return (long)replicates * testCount * fittedCount - scored;
        }
        if (accelerator.AcceleratorType != AcceleratorType.CPU && dim <= KdeScoreKernels.MaxTiledDim)
        {
            AccumulateTiled(replicates, dim, test, testCount, fitted, fittedReplicateStride, fittedCount, bandwidth, state);
            return 0;
        }
        var total = (long)replicates * testCount;
        accumulate(LaunchSize.For(accelerator, total), test, testCount, fitted, fittedReplicateStride, fittedCount, dim,
            inverseTwoH2, state, total, LaunchSize.For(accelerator, total));
        return 0;
    }

    /// <summary>
    /// The tiled scoring kernel (what GPUs run), callable on any accelerator: the CPU accelerator
    /// runs it too, slowly, which is how the tests check it without a GPU.
    /// </summary>
    /// <param name="tile">Threads per group (default: <see cref="KdeScoreKernels.MaxTile"/>, or the accelerator's
    /// maximum if smaller); tests vary it to check tiles that are not the default.</param>
    /// <param name="splits">Ranges of fitted points scored by separate groups and merged after (default: enough
    /// to give the device four groups per multiprocessor, at most one per tile of fitted points); tests vary it.</param>
    public void AccumulateTiled(int replicates, int dim, ArrayView<double> test, int testCount, ArrayView<double> fitted,
        long fittedReplicateStride, int fittedCount, double bandwidth, ArrayView<double> state, int? tile = null, int? splits = null)
    {
        if (dim > KdeScoreKernels.MaxTiledDim)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"the tiled kernel serves dim ≤ {KdeScoreKernels.MaxTiledDim}");
        var maximum = Math.Min(KdeScoreKernels.MaxTile, accelerator.MaxNumThreadsPerGroup);
        if (tile is int asked && (asked < 1 || asked > maximum))
            throw new ArgumentOutOfRangeException(nameof(tile), asked, $"a tile is 1 to {maximum} threads here");
        var size = tile ?? maximum;
        var tiles = (testCount + size - 1) / size;
        var groups = (long)replicates * tiles;
        var most = Math.Max(1, (fittedCount + size - 1) / size);
        var split = splits ?? (int)Math.Clamp((4L * accelerator.NumMultiprocessors + groups - 1) / groups, 1, most);
        if (split < 1 || split > Math.Max(1, fittedCount))
            throw new ArgumentOutOfRangeException(nameof(splits), split, $"1 to {Math.Max(1, fittedCount)} ranges of fitted points");
        var inverseTwoH2 = 1.0 / (2 * bandwidth * bandwidth);
        // Exactly the batch's states: the kernels index the splits' partial states by its length.
        state = state.SubView(0, 2L * replicates * testCount);
        if (split == 1)
        {
            accumulateTiled(new KernelConfig((int)groups, size), test, testCount, fitted, fittedReplicateStride, fittedCount, dim,
                inverseTwoH2, state, tiles, 1, state);
            return;
        }
        var needed = split * state.Length;
        if (partials is null || partials.Length < needed)
        {
            partials?.Dispose();
            partials = accelerator.Allocate1D<double>(needed);
        }
        accumulateTiled(new KernelConfig((int)(groups * split), size), test, testCount, fitted, fittedReplicateStride, fittedCount, dim,
            inverseTwoH2, state, tiles, split, partials.View);
        var points = state.Length / 2;
        mergePartials(LaunchSize.For(accelerator, points), state, partials.View.SubView(0, needed), split, LaunchSize.For(accelerator, points));
    }

    /// <summary>
    /// count points per replicate from each replicate's KDE (fitted points [replicate][point][dim]) into
    /// output [replicate][count][dim]: a fitted point chosen by <paramref name="choices"/>, plus h times
    /// normals of <paramref name="noise"/>. The kernel is light (count·d work); on the CPU path its body
    /// runs from .NET.
    /// </summary>
    public void Sample(Random.RandomStream choices, Random.RandomStream noise, int firstReplicate, int replicates, int dim,
        ArrayView<double> fitted, long fittedReplicateStride, int fittedCount, double bandwidth, int count, ArrayView<double> output)
    {
        var total = (long)replicates * count;
        if (UsesSimd)
        {
            // The kernel's bits, normals sixteen at a time; work items are (replicate, block of samples), without an
            // ILGPU launch (about a millisecond on the CPU accelerator).
            accelerator.Synchronize();
            var fittedPtr = (double*)fitted.LoadEffectiveAddressAsPtr();
            var outputPtr = (double*)output.LoadEffectiveAddressAsPtr();
            var blocks = (count + SampleBlock - 1) / SampleBlock;
            Parallel.For(0, (long)replicates * blocks, CpuParallel.OneWorkerPerCore, item =>
            {
                var (r, first) = (item / blocks, (int)(item % blocks) * SampleBlock);
                var n = Math.Min(SampleBlock, count - first);
                var replicate = (uint)(firstReplicate + r);
                SimdKde.Sample(choices.ForReplicate(replicate), noise.ForReplicate(replicate), fittedPtr + r * fittedReplicateStride, fittedCount,
                    dim, bandwidth, first, n, outputPtr + (r * count + first) * dim, ThreadScratch.FloatPointer((long)n * dim));
            });
            return;
        }
        sample(LaunchSize.For(accelerator, total), choices, noise, firstReplicate, fitted, fittedReplicateStride, fittedCount, dim,
            bandwidth, count, output, total, LaunchSize.For(accelerator, total));
    }

    /// <summary>
    /// log p of test point <paramref name="item"/> (replicate·testCount + t) from its state, for a KDE of
    /// <paramref name="fittedCount"/> points: log p(t) = max + log sum − log m − (d/2)·log(2πh²).
    /// </summary>
    public static double LogDensity(ReadOnlySpan<double> state, long item, long fittedCount, int dim, double bandwidth) =>
        state[(int)(2 * item)] + Math.Log(state[(int)(2 * item + 1)]) - Math.Log(fittedCount) - 0.5 * dim * Math.Log(2 * Math.PI * bandwidth * bandwidth);

    /// <summary>
    /// Mean negative log-likelihood of every replicate's test points from their states on the device,
    /// into <paramref name="nll"/> (one double per replicate) and returned on the host. On the CPU path the
    /// states are read in place; elsewhere the reduction runs on the device and only the R results come back.
    /// </summary>
    public double[] MeanNegativeLogLikelihood(ArrayView<double> state, int testCount, long fittedCount, int dim, double bandwidth, ArrayView<double> nll)
    {
        var replicates = (int)nll.Length;
        if (UsesSimd)
        {
            accelerator.Synchronize();
            var p = (double*)state.LoadEffectiveAddressAsPtr();
            return MeanNegativeLogLikelihood(new ReadOnlySpan<double>(p, checked((int)state.Length)), replicates, testCount, fittedCount, dim, bandwidth);
        }
        meanNll(LaunchSize.For(accelerator, replicates), state, testCount, fittedCount, dim, bandwidth, nll, LaunchSize.For(accelerator, replicates));
        accelerator.Synchronize();
        var result = new double[replicates];
        nll.CopyToCPU(result);
        return result;
    }

    /// <summary>Mean negative log-likelihood of every replicate's test points, from their states.</summary>
    public static double[] MeanNegativeLogLikelihood(ReadOnlySpan<double> state, int replicates, int testCount, long fittedCount, int dim, double bandwidth)
    {
        var nll = new double[replicates];
        for (var r = 0; r < replicates; r++)
        {
            var total = 0.0;
            for (var t = 0; t < testCount; t++) total += LogDensity(state, (long)r * testCount + t, fittedCount, dim, bandwidth);
            nll[r] = -total / testCount;
        }
        return nll;
    }
}
