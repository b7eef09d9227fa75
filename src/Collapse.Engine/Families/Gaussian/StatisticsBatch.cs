namespace Collapse.Engine.Families.Gaussian;

/// <summary>
/// The exact sufficient statistics of n points per replicate (the Wishart method): their mean,
/// a factor G of their covariance (Σ̂ = G·Gᵀ, stored transposed), its rank and
/// log det Σ̂ − log det Σ of the model they came from. A batch made with an owner goes back to it
/// when disposed, so a chain reuses two batches instead of allocating four buffers a generation.
/// </summary>
public sealed class StatisticsBatch : IDataBatch
{
    /// <summary>Bytes per replicate the constructor allocates.</summary>
    public static long BytesPerReplicate(int dim) => 8L * (dim + dim * (long)Kernels.Gaussian.GaussianShape.StrideOf(dim) + 1) + 4;

    readonly Stack<StatisticsBatch>? owner;

    internal StatisticsBatch(DeviceMemory memory, Kernels.Gaussian.GaussianShape shape, int count, Stack<StatisticsBatch>? owner = null)
    {
        (Count, this.owner) = (count, owner);
        Mean = memory.Allocate<double>(shape.MeanLength);
        FactorT = memory.Allocate<double>(shape.FactorLength);
        Rank = memory.Allocate<int>(shape.Replicates);
        LogDetIncrement = memory.Allocate<double>(shape.Replicates);
    }

    public int Count { get; internal set; }
    public MemoryBuffer1D<double, Stride1D.Dense> Mean { get; }
    public MemoryBuffer1D<double, Stride1D.Dense> FactorT { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> Rank { get; }
    public MemoryBuffer1D<double, Stride1D.Dense> LogDetIncrement { get; }

    public void Dispose()
    {
        if (owner is not null) owner.Push(this);
        else Release();
    }

    /// <summary>Frees the buffers (an owner releases its free batches when it is disposed).</summary>
    internal void Release()
    {
        Mean.Dispose();
        FactorT.Dispose();
        Rank.Dispose();
        LogDetIncrement.Dispose();
    }
}
