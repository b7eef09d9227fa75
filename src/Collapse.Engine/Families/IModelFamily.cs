namespace Collapse.Engine.Families;

/// <summary>
/// A batch of data sets, one per replicate, each of <see cref="Count"/> records, in whatever form
/// the family stores them (points on a device, documents on the host, or, for exact simulation,
/// sufficient statistics). Each family names its own batch type, so nothing downcasts.
/// </summary>
public interface IDataBatch : IDisposable
{
    int Count { get; }
}

/// <summary>A growing pool of records per replicate, for Accumulate-Subsample.</summary>
public interface IDataPool<TBatch> : IDisposable where TBatch : IDataBatch
{
    /// <summary>Records per replicate currently in the pool.</summary>
    long Size { get; }

    /// <summary>Appends a batch (copied; the caller still owns it).</summary>
    void Add(TBatch batch);

    /// <summary>count records per replicate drawn without replacement, as a new batch.</summary>
    TBatch Subsample(int count, int iteration);
}

/// <summary>
/// Accumulate's chain state: everything added so far, in whatever summary the family keeps
/// (merged sufficient statistics, the fitted points, the documents). Made by
/// <see cref="IModelFamily{TBatch}.BeginAccumulation"/> at the start of a chain and disposed at
/// its end, so no accumulated state outlives the chain that built it.
/// </summary>
public interface IAccumulation<TBatch> : IDisposable where TBatch : IDataBatch
{
    /// <summary>Records per replicate added so far.</summary>
    long Count { get; }

    /// <summary>Adds <paramref name="newest"/> and fits the family's models to everything added so far.</summary>
    void AddAndFit(TBatch newest);
}

/// <summary>
/// A model family behind the scenario engine: draw, fit, sample and evaluate, all batched over the
/// replicates (seeds) of one grid cell. The scenario runner owns the order of the calls
/// (<see cref="Scenarios.ScenarioChain{TBatch}"/>); policies only decide which data each fit sees.
/// A family keeps its fitted models and nothing about what the runner will ask next.
/// </summary>
public interface IModelFamily<TBatch> : IDisposable where TBatch : class, IDataBatch
{
    int Replicates { get; }

    /// <summary>What the family supports; the runner refuses a setting that needs more before anything runs.</summary>
    FamilyCapabilities Capabilities { get; }

    /// <summary>The metrics <see cref="Evaluate"/> writes.</summary>
    MetricSet Metrics { get; }

    /// <summary>count real records per replicate (the data of iteration 1).</summary>
    TBatch DrawReal(int count);

    /// <summary>
    /// count synthetic records per replicate from the current fitted models, drawn with iteration
    /// <paramref name="iteration"/>'s streams (a pure function of the models and (seed, iteration)).
    /// </summary>
    TBatch Sample(int count, int iteration);

    /// <summary>Fits fresh models, each replicate to its own data set in <paramref name="data"/>.</summary>
    void Fit(TBatch data);

    /// <summary>A fresh accumulation for one chain that will add at most <paramref name="capacity"/> records per replicate.</summary>
    IAccumulation<TBatch> BeginAccumulation(long capacity);

    /// <summary>
    /// A pool for Accumulate-Subsample able to hold <paramref name="capacity"/> records per replicate.
    /// Only for a family whose <see cref="FamilyCapabilities.Pools"/> is true.
    /// </summary>
    IDataPool<TBatch> CreatePool(long capacity);

    /// <summary>
    /// Writes every replicate's metrics for the current fitted models. <paramref name="nextGeneration"/>
    /// is what those models sampled for the next iteration (null when the runner drew none); a family
    /// with <see cref="FamilyCapabilities.ScoresOwnSample"/> scores it, and writes NaN for those
    /// metrics when it is null.
    /// </summary>
    void Evaluate(MetricTable metrics, TBatch? nextGeneration);
}
