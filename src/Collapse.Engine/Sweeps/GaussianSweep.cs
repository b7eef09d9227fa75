namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (setting, d, n) cell of a Gaussian grid over all seeds into <c>gaussian.csv</c>
/// lines. Replicates are batched: as many seeds per launch as fit the memory budget (every seed
/// in one launch for all but the largest Accumulate-Subsample pools). Numbers do not depend on
/// the batching.
/// </summary>
public sealed class GaussianSweep : Sweep<GaussianCell>
{
    public const string CsvFile = "gaussian.csv";

    readonly GaussianSweepConfig config;
    readonly GaussianKernels kernels;
    readonly PointBuffers pools;

    public GaussianSweep(ComputeDevice device, GaussianSweepConfig config, KernelPath path = KernelPath.Auto)
        : base(device, "gaussian", CsvFile, GaussianRow.Header, Validated(config), config.Cells(), config.Seeds * config.Iterations)
    {
        this.config = config;
        kernels = new GaussianKernels(device.Accelerator, path);
        pools = new PointBuffers(device.Accelerator);
    }

    public override string KernelDescription => kernels.UsesSimd ? "cpu-simd (sampling, moments, factorization) + ilgpu" : "ilgpu";
    public bool UsesSimd => kernels.UsesSimd;

    /// <summary>Where every family of this sweep allocates (its peak is what the memory estimate must cover).</summary>
    public DeviceMemory Memory => pools.Memory;

    public override void CheckFits(GaussianCell cell) => BatchSize(cell);

    /// <summary>Estimated bytes one replicate of a cell needs with n points per generation (the families' own estimates).</summary>
    public long BytesPerReplicate(GaussianCell cell, long n)
    {
        var accumulates = cell.Setting == Setting.Accumulate;
        return config.Method == GaussianMethod.Wishart
            ? WishartGaussianFamily.BytesPerReplicate(cell.Dim, accumulates)
            : GaussianFamily.BytesPerReplicate(cell.Dim, (int)n, accumulates, kernels.UsesSimd,
                cell.Setting == Setting.AccumulateSubsample ? n * config.Iterations : 0);
    }

    /// <summary>Seeds per launch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(GaussianCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        return MemoryBudget.ReplicatesPerBatch(Device, n => BytesPerReplicate(cell, n), cell.N, MemoryBudgetBytes, config.Seeds, cell.ToString());
    }

    public override IReadOnlyList<string> RunCell(GaussianCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        Rows(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>
    /// Runs one cell for every seed and returns its rows ordered by seed, then iteration.
    /// <paramref name="onReplicateIterations"/> is told how many replicate-iterations just finished.
    /// </summary>
    public List<GaussianRow> Rows(GaussianCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
    {
        var rows = new GaussianRow[config.Seeds * config.Iterations];
        var batch = BatchSize(cell);
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            if (config.Method == GaussianMethod.Wishart)
            {
                using var family = new WishartGaussianFamily(Device.Accelerator, kernels, cell.Dim, replicates, first, config.Seed, pools.Memory);
                Run(family, cell, first, rows, onReplicateIterations, cancellation);
            }
            else
            {
                using var family = new GaussianFamily(Device.Accelerator, kernels, cell.Dim, replicates, first, config.Seed, pools);
                Run(family, cell, first, rows, onReplicateIterations, cancellation);
            }
        }
        return [.. rows];
    }

    void Run<TBatch>(IModelFamily<TBatch> family, GaussianCell cell, int first, GaussianRow[] rows, Action<long>? onReplicateIterations,
        CancellationToken cancellation) where TBatch : class, IDataBatch =>
        ScenarioRunner.Run(cell.Setting, family, cell.N, config.Iterations, chain =>
        {
            var t = chain.Iteration;
            for (var r = 0; r < family.Replicates; r++)
            {
                var seed = first + r;
                var row = GaussianRow.Of(cell.Setting, cell.Dim, cell.N, seed, t, chain.Metrics, r);
                CheckFinite(row.NonFinite(), cell.ToString(), seed, t);
                rows[seed * config.Iterations + t - 1] = row;
            }
            onReplicateIterations?.Invoke(family.Replicates);
        }, cancellation);

    public override void Dispose() => pools.Dispose();
}
