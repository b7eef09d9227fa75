using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Engine.Families.Gaussian;

/// <summary>n points per replicate on the device, [replicate][point][stride].</summary>
sealed class PointsBatch(MemoryBuffer1D<double, Stride1D.Dense> points, int count, PointBuffers? owner = null) : IDataBatch
{
    public MemoryBuffer1D<double, Stride1D.Dense> Points { get; } = points;
    public int Count { get; } = count;

    public void Dispose()
    {
        if (owner is null) Points.Dispose();
        else owner.Return(Points);
    }
}

/// <summary>
/// Reuses point buffers between iterations: allocating (and zeroing) tens of megabytes per
/// generation cost more than sampling into them. Buffers are zeroed once, when first made;
/// kernels never write their padding columns, so it stays zero.
/// </summary>
sealed class PointBuffers(Accelerator accelerator) : IDisposable
{
    readonly List<MemoryBuffer1D<double, Stride1D.Dense>> free = [];
    bool disposed;

    public MemoryBuffer1D<double, Stride1D.Dense> Rent(long length)
    {
        var index = free.FindIndex(b => b.Length == length);
        if (index >= 0)
        {
            var buffer = free[index];
            free.RemoveAt(index);
            return buffer;
        }
        var fresh = accelerator.Allocate1D<double>(length);
        fresh.MemSetToZero();
        return fresh;
    }

    public void Return(MemoryBuffer1D<double, Stride1D.Dense> buffer)
    {
        if (disposed) buffer.Dispose();
        else free.Add(buffer);
    }

    public void Dispose()
    {
        disposed = true;
        foreach (var b in free) b.Dispose();
        free.Clear();
    }
}

/// <summary>
/// The exact sufficient statistics of n points per replicate (the Wishart method): their mean,
/// a factor G of their covariance (Σ̂ = G·Gᵀ, stored transposed), its rank and
/// log det Σ̂ − log det Σ of the model they came from.
/// </summary>
sealed class StatisticsBatch : IDataBatch
{
    public StatisticsBatch(Accelerator accelerator, Kernels.Gaussian.GaussianShape shape, int count)
    {
        Count = count;
        Mean = accelerator.Allocate1D<double>(shape.MeanLength);
        FactorT = accelerator.Allocate1D<double>(shape.FactorLength);
        Rank = accelerator.Allocate1D<int>(shape.Replicates);
        LogDetIncrement = accelerator.Allocate1D<double>(shape.Replicates);
    }

    public int Count { get; }
    public MemoryBuffer1D<double, Stride1D.Dense> Mean { get; }
    public MemoryBuffer1D<double, Stride1D.Dense> FactorT { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> Rank { get; }
    public MemoryBuffer1D<double, Stride1D.Dense> LogDetIncrement { get; }

    public void Dispose()
    {
        Mean.Dispose();
        FactorT.Dispose();
        Rank.Dispose();
        LogDetIncrement.Dispose();
    }
}
