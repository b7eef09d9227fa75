namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (setting, d, n, σ²) cell of a linear-regression grid over all seeds into
/// <c>regression.csv</c> lines, as many seeds per launch as fit the memory budget. Numbers do not
/// depend on the batching.
/// </summary>
public sealed class RegressionSweep : Sweep<RegressionCell>
{
    public const string CsvFile = "regression.csv";

    readonly RegressionSweepConfig config;
    readonly RegressionKernels kernels;
    readonly PointBuffers buffers;

    public RegressionSweep(ComputeDevice device, RegressionSweepConfig config, KernelPath path = KernelPath.Auto)
        : base(device, "regression", CsvFile, RegressionRow.Header, Validated(config), config.Cells(), config.Seeds * config.Iterations)
    {
        this.config = config;
        kernels = new RegressionKernels(device.Accelerator, path);
        buffers = new PointBuffers(device.Accelerator);
    }

    public override string KernelDescription => kernels.UsesSimd ? "cpu-simd (labels, normal equations, factorization) + ilgpu" : "ilgpu";

    /// <summary>Where every family of this sweep allocates (its peak is what the memory estimate must cover).</summary>
    public DeviceMemory Memory => buffers.Memory;

    public override void CheckFits(RegressionCell cell) => BatchSize(cell);

    /// <summary>Estimated bytes one replicate of a cell needs with n records per generation (the family's own estimate).</summary>
    public long BytesPerReplicate(RegressionCell cell, long n) =>
        RegressionFamily.BytesPerReplicate(cell.Dim, (int)n, config.TestSize, kernels.UsesSimd, cell.Setting == Setting.Accumulate,
            cell.Setting == Setting.AccumulateSubsample ? n * config.Iterations : 0);

    /// <summary>Seeds per launch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(RegressionCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        return MemoryBudget.ReplicatesPerBatch(Device, n => BytesPerReplicate(cell, n), cell.N, MemoryBudgetBytes, config.Seeds, cell.ToString());
    }

    public override IReadOnlyList<string> RunCell(RegressionCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        Rows(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>Runs one cell for every seed and returns its rows ordered by seed, then iteration.</summary>
    public List<RegressionRow> Rows(RegressionCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
    {
        var rows = new RegressionRow[config.Seeds * config.Iterations];
        var batch = BatchSize(cell);
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            using var family = new RegressionFamily(kernels, buffers, cell.Dim, cell.N, cell.NoiseVariance, config.TestSize, replicates, first, config.Seed);
            ScenarioRunner.Run(cell.Setting, family, cell.N, config.Iterations, chain =>
            {
                var t = chain.Iteration;
                for (var r = 0; r < family.Replicates; r++)
                {
                    var seed = first + r;
                    var row = RegressionRow.Of(cell, seed, t, chain.Metrics, r);
                    CheckFinite(row.NonFinite(), cell.ToString(), seed, t);
                    rows[seed * config.Iterations + t - 1] = row;
                }
                onReplicateIterations?.Invoke(family.Replicates);
            }, cancellation);
        }
        return [.. rows];
    }

    public override void Dispose() => buffers.Dispose();
}
