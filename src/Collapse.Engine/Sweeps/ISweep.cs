using Collapse.Kernels.Accelerators;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// A family's sweep as <see cref="SweepRun"/> sees it: a grid of cells (a cell = every seed of
/// one configuration), each run into whole CSV lines whose leading columns spell the cell's key.
/// </summary>
public interface ISweep<TCell> : IDisposable where TCell : notnull
{
    /// <summary>The accelerator this sweep's kernels run on.</summary>
    ComputeDevice Device { get; }

    /// <summary>The experiment's name (<c>gaussian</c>, <c>kde</c>); its CSV is <c>NAME.csv</c>.</summary>
    string Experiment { get; }

    /// <summary>The CSV's file name, e.g. <c>kde.csv</c>.</summary>
    string CsvName { get; }

    string Header { get; }

    /// <summary>The configuration recorded in the manifest; a rerun resumes only if it is equal.</summary>
    object Configuration { get; }

    /// <summary>Seeds × iterations: how many lines a complete cell has.</summary>
    int RowsPerCell { get; }

    /// <summary>Which paths serve the kernels (for the manifest).</summary>
    string KernelDescription { get; }

    /// <summary>Cells in run order.</summary>
    IReadOnlyList<TCell> Cells { get; }

    /// <summary>The cell's key as its lines spell it (their leading columns).</summary>
    string Key(TCell cell);

    /// <summary>The setting a cell belongs to (the manifest sums wall time per setting).</summary>
    string SettingName(TCell cell);

    /// <summary>Throws <see cref="Kernels.Validation.InvalidParameterException"/> before anything is written if a cell cannot run (e.g. memory).</summary>
    void CheckFits(TCell cell);

    /// <summary>
    /// Runs one cell for every seed and returns its CSV lines ordered by seed, then iteration.
    /// <paramref name="onReplicateIterations"/> is told how many replicate-iterations just finished.
    /// </summary>
    IReadOnlyList<string> RunCell(TCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation);
}
