namespace Collapse.Engine.Sweeps;

/// <summary>A sweep's configuration: validated before the sweep is built from it.</summary>
public interface ISweepConfig
{
    /// <summary>Throws <see cref="Kernels.Validation.InvalidParameterException"/> naming the first bad value.</summary>
    void Validate();
}

/// <summary>One cell of a sweep's grid: every seed of one configuration.</summary>
public interface ISweepCell
{
    /// <summary>The cell's key as its CSV lines spell it (their leading columns).</summary>
    string Key { get; }

    /// <summary>The setting the cell belongs to (the manifest sums wall time per setting).</summary>
    string SettingName { get; }
}

/// <summary>
/// A family's sweep as <see cref="SweepRun"/> sees it: a grid of cells, each run into whole CSV
/// lines whose leading columns spell the cell's key. Implementations derive from
/// <see cref="Sweep{TCell}"/>, which holds the members every sweep shares.
/// </summary>
public interface ISweep<TCell> : IDisposable where TCell : ISweepCell
{
    /// <summary>The accelerator this sweep's kernels run on.</summary>
    ComputeDevice Device { get; }

    /// <summary>The experiment's name (<c>gaussian</c>, <c>kde</c>); it names the manifest's experiment.</summary>
    string Experiment { get; }

    /// <summary>The CSV's file name, e.g. <c>kde.csv</c>.</summary>
    string CsvName { get; }

    string Header { get; }

    /// <summary>The configuration recorded in the manifest; a rerun resumes only if it is equal.</summary>
    object Configuration { get; }

    /// <summary>How many lines a complete cell has (seeds × iterations for a chain).</summary>
    int RowsPerCell { get; }

    /// <summary>Which paths serve the kernels (for the manifest).</summary>
    string KernelDescription { get; }

    /// <summary>Cells in run order.</summary>
    IReadOnlyList<TCell> Cells { get; }

    /// <summary>Throws <see cref="Kernels.Validation.InvalidParameterException"/> before anything is written if a cell cannot run (e.g. memory).</summary>
    void CheckFits(TCell cell);

    /// <summary>
    /// Runs one cell for every seed and returns its CSV lines ordered by seed, then iteration.
    /// <paramref name="onReplicateIterations"/> is told how many replicate-iterations just finished.
    /// </summary>
    IReadOnlyList<string> RunCell(TCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation);
}

/// <summary>What every family's sweep shares: identity, grid, memory budget and batching knobs.</summary>
public abstract class Sweep<TCell> : ISweep<TCell> where TCell : ISweepCell
{
    /// <param name="gpuBudgetCap">The most one batch may use on a GPU (a quarter of its memory at most).</param>
    protected Sweep(ComputeDevice device, string experiment, string csvName, string header, object configuration,
        IEnumerable<TCell> cells, int rowsPerCell, long gpuBudgetCap = 2L << 30)
    {
        (Device, Experiment, CsvName, Header, Configuration, RowsPerCell) = (device, experiment, csvName, header, configuration, rowsPerCell);
        Cells = [.. cells];
        MemoryBudgetBytes = device.IsCpu ? 512L << 20 : Math.Min(gpuBudgetCap, device.Accelerator.MemorySize / 4);
    }

    /// <summary>The configuration after its <see cref="ISweepConfig.Validate"/> (for a derived sweep's base-constructor arguments).</summary>
    protected static TConfig Validated<TConfig>(TConfig config) where TConfig : ISweepConfig
    {
        config.Validate();
        return config;
    }

    public ComputeDevice Device { get; }
    public string Experiment { get; }
    public string CsvName { get; }
    public string Header { get; }
    public object Configuration { get; }
    public int RowsPerCell { get; }
    public IReadOnlyList<TCell> Cells { get; }
    public abstract string KernelDescription { get; }

    /// <summary>
    /// Memory one batch may use; a cell whose seeds need more is run in several batches. On the
    /// CPU a smaller budget lets one pool allocation serve every cell: first-touching gigabytes of
    /// fresh pool memory cost more than the extra batches.
    /// </summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>Record NaN or infinite metrics instead of stopping the cell (--allow-nonfinite).</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Overrides the memory-derived batch size (tests use it to prove batching changes nothing).</summary>
    public int? ReplicatesPerBatch { get; init; }

    public abstract void CheckFits(TCell cell);

    public abstract IReadOnlyList<string> RunCell(TCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation);

    /// <summary>Throws when a row holds a value its model does not define, unless <see cref="AllowNonFinite"/>.</summary>
    protected void CheckFinite((string Column, double Value)? bad, string cell, int seed, int? iteration)
    {
        if (!AllowNonFinite && bad is { } b) throw new NonFiniteResultException(cell, seed, iteration, b.Column, b.Value);
    }

    public virtual void Dispose()
    {
    }
}
