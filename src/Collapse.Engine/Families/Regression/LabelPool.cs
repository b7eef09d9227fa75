
namespace Collapse.Engine.Families.Regression;

/// <summary>
/// Accumulate-Subsample's pool for the regression family: every generation's labels,
/// [replicate][capacity]; pooled record j is a copy of design row j mod n (generation k's record i
/// is row i), so the pool needs no design rows of its own.
/// </summary>
public sealed class LabelPool : IDataPool<LabelsBatch>
{
    readonly RegressionKernels kernels;
    readonly int replicates, n, firstReplicate;
    readonly long capacity;
    readonly uint seed;
    readonly PointBuffers buffers;
    readonly MemoryBuffer1D<double, Stride1D.Dense> pool;

    public LabelPool(RegressionKernels kernels, int replicates, int n, long capacity, uint seed, int firstReplicate, PointBuffers buffers)
    {
        (this.kernels, this.replicates, this.n, this.capacity, this.seed, this.firstReplicate, this.buffers) =
            (kernels, replicates, n, capacity, seed, firstReplicate, buffers);
        pool = buffers.Memory.Allocate<double>(replicates * capacity);
    }

    public long Size { get; private set; }

    /// <summary>Estimated bytes per replicate of a pool of <paramref name="capacity"/> labels subsampled n at a time (pool, subsample, row and index workspace).</summary>
    public static long BytesPerReplicate(long capacity, int n) => 8L * (capacity + n) + 4L * (2L * n + RandomKernels.WorkspaceSize(n));

    public void Add(LabelsBatch batch)
    {
        if (batch.RowOf is not null) throw new ArgumentException("the pool takes whole generations (record i is design row i), not subsamples", nameof(batch));
        if (batch.Count != n) throw new ArgumentException($"a generation of {batch.Count} labels for a design of {n} rows", nameof(batch));
        if (Size + n > capacity) throw new InvalidOperationException($"pool capacity {capacity} exceeded");
        for (var r = 0; r < replicates; r++)
            batch.Labels.View.SubView((long)r * n, n).CopyTo(pool.View.SubView(r * capacity + Size, n));
        Size += n;
    }

    public LabelsBatch Subsample(int count, int iteration)
    {
        if (count > Size) throw new InvalidOperationException($"cannot subsample {count} of a pool of {Size}");
        using var workspace = buffers.Memory.Allocate<int>((long)replicates * RandomKernels.WorkspaceSize(count));
        using var index = buffers.Memory.Allocate<int>((long)replicates * count);
        kernels.Points.WithoutReplacement(new RandomStream(seed, 0, (uint)iteration, RandomStreams.Subsample), firstReplicate,
            replicates, (int)Size, count, index.View, workspace.View);
        var labels = buffers.Rent((long)replicates * count);
        var rowOf = buffers.Memory.Allocate<int>((long)replicates * count);
        kernels.GatherLabels(replicates, pool.View, capacity, index.View, count, n, labels.View, rowOf.View);
        kernels.Synchronize();
        return new LabelsBatch(labels, count, buffers, rowOf);
    }

    public void Dispose() => pool.Dispose();
}
