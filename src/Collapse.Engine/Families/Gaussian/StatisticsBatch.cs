using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Engine.Families.Gaussian;

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
