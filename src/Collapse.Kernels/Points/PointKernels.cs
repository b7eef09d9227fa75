using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Points;

/// <summary>
/// Moving points between a family's buffers, batched over replicates: the subsampling that
/// Accumulate-Subsample does (indices without replacement, then a gather of those rows). Points
/// are rows of <c>stride</c> doubles, [replicate][point][stride], whatever the family.
/// </summary>
public sealed unsafe class PointKernels
{
    readonly Accelerator accelerator;
    readonly RandomKernels random;
    readonly Action<Index1D, ArrayView<double>, long, ArrayView<int>, int, int, ArrayView<double>, int> gather;

    public Accelerator Accelerator => accelerator;

    /// <summary>True when plain C# serves the CPU accelerator (row copies, no launch).</summary>
    public bool UsesCpuLoops { get; }

    /// <param name="cpuLoops">Run on the host when the accelerator is the CPU (the SIMD paths ask for it).</param>
    public PointKernels(Accelerator accelerator, RandomKernels random, bool cpuLoops)
    {
        this.accelerator = accelerator;
        this.random = random;
        UsesCpuLoops = cpuLoops && accelerator.AcceleratorType == AcceleratorType.CPU;
        gather = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, long, ArrayView<int>, int, int, ArrayView<double>, int>(GatherKernel).Serialized(accelerator);
    }

    /// <summary>destination[r, q, :] = source[r, index[r, q], :] for count rows of stride doubles per replicate.</summary>
    public void Gather(int replicates, int stride, ArrayView<double> source, long sourceReplicateStride, ArrayView<int> index,
        int count, ArrayView<double> destination)
    {
        var length = (long)replicates * count * stride;
        if (UsesCpuLoops)
        {
            // A row copy per point: ILGPU's CPU backend moves single elements at a fraction of memory speed.
            accelerator.Synchronize();
            var sourcePtr = (double*)source.LoadEffectiveAddressAsPtr();
            var destinationPtr = (double*)destination.LoadEffectiveAddressAsPtr();
            var indexPtr = (int*)index.LoadEffectiveAddressAsPtr();
            // The rows are random reads from a pool of up to megabytes per replicate: the row eight
            // ahead is prefetched so its cache miss overlaps this copy, and short rows are copied
            // with vector moves instead of a call per row.
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
            {
                var pool = sourcePtr + r * sourceReplicateStride;
                var rows = indexPtr + (long)r * count;
                var target = destinationPtr + (long)r * count * stride;
                for (var q = 0; q < count; q++, target += stride)
                {
                    if (q + 8 < count && System.Runtime.Intrinsics.X86.Sse.IsSupported)
                        System.Runtime.Intrinsics.X86.Sse.Prefetch0(pool + (long)rows[q + 8] * stride);
                    var row = pool + (long)rows[q] * stride;
                    if (stride % 4 == 0 && stride <= 32)
                        for (var j = 0; j < stride; j += 4) System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.Vector256.Load(row + j), target + j);
                    else Buffer.MemoryCopy(row, target, stride * sizeof(double), stride * sizeof(double));
                }
            });
            return;
        }
        var threads = LaunchSize.For(accelerator, length);
        gather(threads, source, sourceReplicateStride, index, count, stride, destination.SubView(0, length), threads);
    }

    /// <summary>
    /// count distinct indices of [0, population) per replicate (see <see cref="RandomKernels.WithoutReplacement"/>).
    /// On the CPU path the same kernel body runs from .NET, one replicate per loop iteration, without a launch.
    /// </summary>
    public void WithoutReplacement(RandomStream stream, int firstReplicate, int replicates, int population, int count,
        ArrayView<int> output, ArrayView<int> workspace)
    {
        if (UsesCpuLoops)
        {
            if (count > population)
                throw new ArgumentOutOfRangeException(nameof(count), $"cannot draw {count} distinct items from {population}");
            accelerator.Synchronize();
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                RandomKernels.WithoutReplacementKernel(r, stream, firstReplicate, replicates, population, count, replicates, output, workspace));
            return;
        }
        random.WithoutReplacement(stream, firstReplicate, replicates, population, count, output, workspace);
    }

    /// <summary>Threads stride over every destination element (replicate, row, column).</summary>
    static void GatherKernel(Index1D thread, ArrayView<double> source, long sourceReplicateStride,
        ArrayView<int> index, int count, int ld, ArrayView<double> destination, int stride)
    {
        var perReplicate = (long)count * ld;
        for (long item = thread; item < destination.Length; item += stride)
        {
            var r = item / perReplicate;
            var qj = item - r * perReplicate;
            var q = qj / ld;
            var j = qj - q * ld;
            destination[item] = source[r * sourceReplicateStride + (long)index[r * count + q] * ld + j];
        }
    }
}
