using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Points;
using Collapse.Engine.Results;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (setting, d, n) cell of a Gaussian grid over all seeds into <c>gaussian.csv</c>
/// lines. Replicates are batched: as many seeds per launch as fit the memory budget (every seed
/// in one launch for all but the largest Accumulate-Subsample pools). Numbers do not depend on
/// the batching.
/// </summary>
public sealed class GaussianSweep : ISweep<GaussianCell>
{
    readonly ComputeDevice device;
    readonly GaussianSweepConfig config;
    readonly GaussianKernels kernels;
    readonly PointBuffers pools;

    public GaussianSweep(ComputeDevice device, GaussianSweepConfig config, KernelPath path = KernelPath.Auto)
    {
        config.Validate();
        (this.device, this.config) = (device, config);
        kernels = new GaussianKernels(device.Accelerator, path);
        pools = new PointBuffers(device.Accelerator);
        MemoryBudgetBytes = device.IsCpu ? 512L << 20 : Math.Min(2L << 30, device.Accelerator.MemorySize / 4);
        Cells = [.. config.Cells()];
    }

    public const string CsvFile = "gaussian.csv";
    public ComputeDevice Device => device;
    public string Experiment => "gaussian";
    public string CsvName => CsvFile;
    public string Header => GaussianRow.Header;
    public object Configuration => config;
    public int RowsPerCell => config.Seeds * config.Iterations;
    public string KernelDescription => kernels.UsesSimd ? "cpu-simd (sampling, moments, factorization) + ilgpu" : "ilgpu";
    public IReadOnlyList<GaussianCell> Cells { get; }
    public string Key(GaussianCell c) => c.Key;
    public string SettingName(GaussianCell cell) => cell.Setting.Name();
    public void CheckFits(GaussianCell cell) => BatchSize(cell);

    public bool UsesSimd => kernels.UsesSimd;

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

    /// <summary>Seeds per launch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(GaussianCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        long ld = GaussianShape.StrideOf(cell.Dim), d = cell.Dim;
        long Bytes(long n) => 8 * (3 * n * ld + 6 * d * d + 3 * d * ld) + 4 * n * d
            + (cell.Setting == Setting.AccumulateSubsample ? 8 * n * ld * config.Iterations : 0);
        return MemoryBudget.ReplicatesPerBatch(device, Bytes, cell.N, MemoryBudgetBytes, config.Seeds, cell.ToString());
    }

    IReadOnlyList<string> ISweep<GaussianCell>.RunCell(GaussianCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        RunCell(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>
    /// Runs one cell for every seed and returns its rows ordered by seed, then iteration.
    /// <paramref name="onReplicateIterations"/> is told how many replicate-iterations just finished.
    /// </summary>
    public List<GaussianRow> RunCell(GaussianCell cell, Action<long>? onReplicateIterations = null,
        CancellationToken cancellation = default)
    {
        var rows = new GaussianRow[config.Seeds * config.Iterations];
        var batch = BatchSize(cell);
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            using var family = new GaussianFamily(device.Accelerator, kernels, cell.Dim, replicates, first, config.Seed, config.Method, pools);
            ScenarioRunner.Run(cell.Setting, family, cell.N, config.Iterations, (t, metrics) =>
            {
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    var row = new GaussianRow(cell.Setting, cell.Dim, cell.N, seed, t,
                        metrics[r, 0], metrics[r, 1], metrics[r, 2], metrics[r, 3]);
                    if (!AllowNonFinite && row.NonFinite() is { } bad)
                        throw new NonFiniteResultException(cell.ToString(), seed, t, bad.Column, bad.Value);
                    rows[seed * config.Iterations + t - 1] = row;
                }
                onReplicateIterations?.Invoke(replicates);
            }, cancellation);
        }
        return [.. rows];
    }

    public void Dispose() => pools.Dispose();
}
