namespace Collapse.Engine.Families;

/// <summary>
/// A batch of data sets, one per replicate, each of <see cref="Count"/> records, in whatever form
/// the family stores them (points on a device; or, for exact simulation, sufficient statistics).
/// </summary>
public interface IDataBatch : IDisposable
{
    int Count { get; }
}

/// <summary>A growing pool of records per replicate, for Accumulate-Subsample.</summary>
public interface IDataPool : IDisposable
{
    /// <summary>Records per replicate currently in the pool.</summary>
    long Size { get; }

    /// <summary>Appends a batch (copied; the caller still owns it).</summary>
    void Add(IDataBatch batch);

    /// <summary>count records per replicate drawn without replacement, as a new batch.</summary>
    IDataBatch Subsample(int count, int iteration);
}

/// <summary>
/// A model family behind the scenario engine: fit, sample, evaluate, all batched over the
/// replicates (seeds) of one grid cell. Scenario policies only decide which data each fit sees.
/// </summary>
public interface IModelFamily : IDisposable
{
    int Replicates { get; }

    /// <summary>Names of the metrics <see cref="Evaluate"/> writes, in order.</summary>
    IReadOnlyList<string> MetricNames { get; }

    /// <summary>count real records per replicate (the data of iteration 1).</summary>
    IDataBatch DrawReal(int count);

    /// <summary>count synthetic records per replicate from the current fitted models.</summary>
    IDataBatch Sample(int count, int iteration);

    /// <summary>Fits fresh models, each replicate to its own data set in <paramref name="data"/>.</summary>
    void Fit(IDataBatch data);

    /// <summary>
    /// Fits to everything passed to this method so far plus <paramref name="newest"/>, as if all of
    /// it were refitted; a family may merge sufficient statistics instead of refitting.
    /// </summary>
    void FitAccumulated(IDataBatch newest);

    /// <summary>A pool for Accumulate-Subsample able to hold <paramref name="capacity"/> records per replicate.</summary>
    IDataPool CreatePool(long capacity);

    /// <summary>Writes metrics[replicate, k] for the current fitted models.</summary>
    void Evaluate(double[,] metrics);
}
