namespace Collapse.Engine.Families.Gaussian;

/// <summary>
/// The Gaussian family simulated exactly (method <c>wishart</c>): a generation is the sufficient
/// statistics n points of the current model would have (mean ~ N(μ, Σ/n), scatter ~ Wishart),
/// drawn in O(d³) whatever n is. There are no points, so there is nothing to pool.
/// </summary>
/// <param name="ledger">Where its buffers come from (a sweep passes its ledger; null: a fresh one).</param>
public sealed class WishartGaussianFamily(Accelerator accelerator, GaussianKernels kernels, int dim, int replicates, int firstReplicate, uint seed,
    DeviceMemory? ledger = null)
    : GaussianModelFamily<StatisticsBatch>(ledger ?? new DeviceMemory(accelerator), kernels, dim, replicates, firstReplicate, seed)
{
    /// <summary>What exact simulation supports: no pool, so no Accumulate-Subsample; known before any family is made.</summary>
    public static readonly FamilyCapabilities Declared = new() { MergesAccumulated = true, ExactSimulation = true };

    public override FamilyCapabilities Capabilities => Declared;

    // Statistics batches the chain has disposed: the next draw reuses one (every batch of a family has its shape).
    readonly Stack<StatisticsBatch> free = new();

    /// <summary>
    /// Estimated bytes per replicate of a chain: the model and one generation's statistics (the chain
    /// disposes the newest before the next is drawn, and the draw reuses it).
    /// </summary>
    public static long BytesPerReplicate(int dim, bool accumulates) =>
        ModelBytesPerReplicate(dim, accumulates) + StatisticsBatch.BytesPerReplicate(dim);

    protected override StatisticsBatch Draw(int count, int iteration, uint stream)
    {
        var statistics = free.Count > 0 ? free.Pop() : new StatisticsBatch(memory, shape, count, free);
        statistics.Count = count;
        kernels.DrawWishart(shape, Stream(iteration, RandomStreams.WishartNormals(stream)),
            Stream(iteration, RandomStreams.WishartChiSquare(stream)), firstReplicate, count,
            mean.View, factorT.View, rank.View, statistics.Mean.View, statistics.FactorT.View,
            statistics.Rank.View, statistics.LogDetIncrement.View);
        return statistics;
    }

    /// <summary>The fit of the drawn statistics: its factor is G itself, and log det moves by the exact increment.</summary>
    protected override void FitModel(StatisticsBatch statistics)
    {
        ModelChanging();
        kernels.Synchronize();
        var increments = statistics.LogDetIncrement.GetAsArray1D();
        var ranks = statistics.Rank.GetAsArray1D();
        logDet.View.CopyToCPU(hostLogDet);
        for (var r = 0; r < shape.Replicates; r++)
            hostLogDet[r] = ranks[r] == shape.Dim ? hostLogDet[r] + increments[r] : double.NegativeInfinity;
        logDet.View.CopyFromCPU(hostLogDet);
        statistics.Mean.View.CopyTo(mean.View);
        statistics.FactorT.View.CopyTo(factorT.View);
        statistics.Rank.View.CopyTo(rank.View);
    }

    protected override void Moments(StatisticsBatch statistics, ArrayView<double> mean, ArrayView<double> m2)
    {
        statistics.Mean.View.CopyTo(mean);
        kernels.ScatterFromFactor(shape, statistics.FactorT.View, statistics.Rank.View, statistics.Count, m2);
    }

    public override void Dispose()
    {
        base.Dispose();
        while (free.Count > 0) free.Pop().Release();
    }
}
