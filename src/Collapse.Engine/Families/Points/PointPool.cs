using Collapse.Kernels.Points;

namespace Collapse.Engine.Families.Points;

/// <summary>
/// Accumulate-Subsample's pool for any family whose data are points: every generation's points,
/// [replicate][capacity][stride]; a subsample is n rows per replicate drawn without replacement.
/// </summary>
public sealed class PointPool : IDataPool<PointsBatch>
{
    readonly PointKernels kernels;
    readonly int replicates, stride, firstReplicate;
    readonly long capacity;
    readonly uint seed;
    readonly PointBuffers buffers, poolBuffers;
    // Only rows that were added are ever read, so a reused buffer needs no clearing.
    readonly MemoryBuffer1D<double, Stride1D.Dense> pool;

    /// <param name="buffers">Where subsample batches come from.</param>
    /// <param name="poolBuffers">Where the pool comes from (a sweep passes one owner, so cells reuse one allocation).</param>
    public PointPool(PointKernels kernels, int replicates, int stride, long capacity, uint seed, int firstReplicate,
        PointBuffers buffers, PointBuffers? poolBuffers = null)
    {
        (this.kernels, this.replicates, this.stride, this.capacity, this.seed, this.firstReplicate) =
            (kernels, replicates, stride, capacity, seed, firstReplicate);
        this.buffers = buffers;
        this.poolBuffers = poolBuffers ?? buffers;
        pool = this.poolBuffers.RentAtLeast(replicates * capacity * stride);
    }

    public long Size { get; private set; }

    /// <summary>
    /// Estimated bytes per replicate of a pool of <paramref name="capacity"/> rows of
    /// <paramref name="stride"/> doubles subsampled <paramref name="count"/> at a time: the pool,
    /// one subsample and its index workspace (what the constructor and <see cref="Subsample"/> allocate).
    /// </summary>
    public static long BytesPerReplicate(int stride, long capacity, int count) =>
        8L * stride * (capacity + count) + 4L * (count + RandomKernels.WorkspaceSize(count));

    public void Add(PointsBatch points)
    {
        if (Size + points.Count > capacity) throw new InvalidOperationException($"pool capacity {capacity} exceeded");
        var rows = (long)points.Count * stride;
        for (var r = 0; r < replicates; r++)
            points.Points.View.SubView(r * rows, rows).CopyTo(pool.View.SubView((r * capacity + Size) * stride, rows));
        Size += points.Count;
    }

    public PointsBatch Subsample(int count, int iteration)
    {
        if (count > Size) throw new InvalidOperationException($"cannot subsample {count} of a pool of {Size}");
        using var index = buffers.Memory.Allocate<int>((long)replicates * count);
        using var workspace = buffers.Memory.Allocate<int>((long)replicates * RandomKernels.WorkspaceSize(count));
        kernels.WithoutReplacement(new RandomStream(seed, 0, (uint)iteration, RandomStreams.Subsample), firstReplicate,
            replicates, (int)Size, count, index.View, workspace.View);
        var points = buffers.Rent((long)replicates * count * stride);
        kernels.Gather(replicates, stride, pool.View, capacity * stride, index.View, count, points.View);
        kernels.Accelerator.Synchronize();
        return new PointsBatch(points, count, buffers);
    }

    public void Dispose() => poolBuffers.ReturnKeepingLargest(pool);
}
