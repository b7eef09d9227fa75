using Collapse.Kernels.Points;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Engine.Families.Points;

/// <summary>
/// Accumulate-Subsample's pool for any family whose data are points: every generation's points,
/// [replicate][capacity][stride]; a subsample is n rows per replicate drawn without replacement.
/// </summary>
public sealed class PointPool : IDataPool
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

    public void Add(IDataBatch batch)
    {
        if (batch is not PointsBatch points) throw new ArgumentException("a point pool holds points", nameof(batch));
        if (Size + points.Count > capacity) throw new InvalidOperationException($"pool capacity {capacity} exceeded");
        var rows = (long)points.Count * stride;
        for (var r = 0; r < replicates; r++)
            points.Points.View.SubView(r * rows, rows).CopyTo(pool.View.SubView((r * capacity + Size) * stride, rows));
        Size += points.Count;
    }

    public IDataBatch Subsample(int count, int iteration)
    {
        if (count > Size) throw new InvalidOperationException($"cannot subsample {count} of a pool of {Size}");
        var accelerator = kernels.Accelerator;
        using var index = accelerator.Allocate1D<int>((long)replicates * count);
        using var workspace = accelerator.Allocate1D<int>((long)replicates * RandomKernels.WorkspaceSize(count));
        kernels.WithoutReplacement(new RandomStream(seed, 0, (uint)iteration, RandomStreams.Subsample), firstReplicate,
            replicates, (int)Size, count, index.View, workspace.View);
        var points = buffers.Rent((long)replicates * count * stride);
        kernels.Gather(replicates, stride, pool.View, capacity * stride, index.View, count, points.View);
        accelerator.Synchronize();
        return new PointsBatch(points, count, buffers);
    }

    public void Dispose() => poolBuffers.ReturnKeepingLargest(pool);
}
