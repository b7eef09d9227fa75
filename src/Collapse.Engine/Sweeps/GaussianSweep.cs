using System.Diagnostics;
using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Results;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (setting, d, n) cell of a Gaussian grid over all seeds. Replicates are batched:
/// as many seeds per launch as fit the memory budget (every seed in one launch for all but the
/// largest Accumulate-Subsample pools). Numbers do not depend on the batching.
/// </summary>
public sealed class GaussianSweep(ComputeDevice device, KernelPath path = KernelPath.Auto) : IDisposable
{
    readonly GaussianKernels kernels = new(device.Accelerator, path);
    readonly PointBuffers pools = new(device.Accelerator);

    public bool UsesSimd => kernels.UsesSimd;

    /// <summary>
    /// Memory one batch may use; a cell whose seeds need more is run in several batches. On the
    /// CPU a smaller budget lets one pool allocation serve every cell: first-touching gigabytes of
    /// fresh pool memory cost more than the extra batches.
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = device.IsCpu ? 512L << 20 : Math.Min(2L << 30, device.Accelerator.MemorySize / 4);

    /// <summary>Overrides the memory-derived batch size (tests use it to prove batching changes nothing).</summary>
    public int? ReplicatesPerBatch { get; init; }

    /// <summary>Seeds per launch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(GaussianSweepConfig config, GaussianCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        long ld = (cell.Dim + 7) & ~7, d = cell.Dim, n = cell.N;
        var perReplicate = 8 * (3 * n * ld + 6 * d * d + 3 * d * ld) + 4 * n * d;
        if (cell.Setting == Setting.AccumulateSubsample) perReplicate += 8 * n * ld * config.Iterations;
        var available = device.IsCpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.Accelerator.MemorySize;
        if (perReplicate > available * 0.8)
            throw new UsageException($"cell {cell} needs {perReplicate / 1e9:F1} GB for a single seed, more than this " +
                $"{(device.IsCpu ? "machine" : "device")} has ({available / 1e9:F1} GB): use smaller --samples, --dims or --iterations");
        return (int)Math.Clamp(MemoryBudgetBytes / perReplicate, 1, config.Seeds);
    }

    /// <summary>
    /// Runs one cell for every seed and returns its rows ordered by seed, then iteration.
    /// <paramref name="onReplicateIterations"/> is told how many replicate-iterations just finished.
    /// </summary>
    public List<GaussianRow> RunCell(GaussianSweepConfig config, GaussianCell cell, Action<long>? onReplicateIterations = null,
        CancellationToken cancellation = default)
    {
        var rows = new GaussianRow[config.Seeds * config.Iterations];
        var batch = BatchSize(config, cell);
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            using var family = new GaussianFamily(device.Accelerator, kernels, cell.Dim, replicates, first, config.Seed, config.Method, pools);
            ScenarioRunner.Run(cell.Setting, family, cell.N, config.Iterations, (t, metrics) =>
            {
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    rows[seed * config.Iterations + t - 1] = new GaussianRow(cell.Setting, cell.Dim, cell.N, seed, t,
                        metrics[r, 0], metrics[r, 1], metrics[r, 2], metrics[r, 3]);
                }
                onReplicateIterations?.Invoke(replicates);
            }, cancellation);
        }
        return [.. rows];
    }

    /// <summary>
    /// Runs every cell not in <paramref name="completed"/>, handing each finished cell's rows to
    /// <paramref name="onCell"/> with its wall time.
    /// </summary>
    public void Run(GaussianSweepConfig config, IReadOnlySet<GaussianCell> completed,
        Action<GaussianCell, List<GaussianRow>, TimeSpan> onCell, IProgress<SweepProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        config.Validate();
        var cells = config.Cells().ToList();
        var perCell = (long)config.Seeds * config.Iterations;
        var total = perCell * cells.Count;
        var done = perCell * cells.Count(completed.Contains);
        var cellsDone = cells.Count(completed.Contains);
        foreach (var cell in cells)
        {
            if (completed.Contains(cell)) continue;
            var clock = Stopwatch.StartNew();
            var rows = RunCell(config, cell, count =>
            {
                done += count;
                progress?.Report(new SweepProgress(done, total, cellsDone, cells.Count, cell.ToString()));
            }, cancellation);
            cellsDone++;
            onCell(cell, rows, clock.Elapsed);
            progress?.Report(new SweepProgress(done, total, cellsDone, cells.Count, cell.ToString()));
        }
    }

    public void Dispose() => pools.Dispose();
}
