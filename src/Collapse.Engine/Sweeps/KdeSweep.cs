using Collapse.Engine.Families.Kde;
using Collapse.Kernels.Points;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (dataset, bandwidth, setting, n) cell of a KDE grid over all seeds into
/// <c>kde.csv</c> lines, batching as many seeds per launch as the memory budget allows.
/// Numbers do not depend on the batching.
/// </summary>
public sealed class KdeSweep : Sweep<KdeCell>
{
    public const string CsvFile = "kde.csv";

    readonly KdeSweepConfig config;
    readonly KdeKernels kernels;
    readonly PointKernels points;
    readonly PointBuffers pools;

    public KdeSweep(ComputeDevice device, KdeSweepConfig config, KernelPath path = KernelPath.Auto)
        : base(device, "kde", CsvFile, KdeRow.Header, Validated(config), config.Cells(), config.Seeds * config.Iterations)
    {
        this.config = config;
        kernels = new KdeKernels(device.Accelerator, path);
        points = new PointKernels(device.Accelerator, new RandomKernels(device.Accelerator), kernels.UsesSimd);
        pools = new PointBuffers(device.Accelerator);
    }

    public override string KernelDescription => kernels.UsesSimd ? "cpu-simd (scoring) + ilgpu" : "ilgpu";
    public override void CheckFits(KdeCell cell) => BatchSize(cell);

    /// <summary>Test × fitted pairs scored by the cells this sweep ran (not the picture run).</summary>
    public long ScoredPairs => Interlocked.Read(ref scoredPairs);
    long scoredPairs;

    /// <summary>Of <see cref="ScoredPairs"/>, those the CPU path skipped by its bound.</summary>
    public long SkippedPairs => Interlocked.Read(ref skippedPairs);
    long skippedPairs;

    /// <summary>Where every family of this sweep allocates (its peak is what the memory estimate must cover).</summary>
    public DeviceMemory Memory => pools.Memory;

    /// <summary>Seeds per launch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(KdeCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        return MemoryBudget.ReplicatesPerBatch(Device, n => BytesPerReplicate(cell, n), cell.N, MemoryBudgetBytes, config.Seeds, cell.ToString());
    }

    /// <summary>Points per replicate a cell's fitted set holds at most (Accumulate: n·T, reserved at once so it never grows).</summary>
    long FittedCapacity(KdeCell cell, long n) => cell.Setting == Setting.Accumulate ? n * config.Iterations : n;

    /// <summary>Estimated bytes one replicate of a cell needs with n points per generation (the family's own estimate).</summary>
    public long BytesPerReplicate(KdeCell cell, long n) => KdeFamily.BytesPerReplicate(cell.Dataset.Dim(), (int)n, config.TestSize,
        FittedCapacity(cell, n), cell.Setting == Setting.AccumulateSubsample ? n * config.Iterations : 0);

    /// <summary>A family for one batch of a cell's seeds (the picture run uses it too).</summary>
    KdeFamily Family(KdeCell cell, int replicates, int first) => new(Device.Accelerator, kernels, points, cell.Dataset, cell.Bandwidth,
        replicates, first, config.Seed, config.TestSize, fittedCapacity: FittedCapacity(cell, cell.N), poolBuffers: pools);

    public override IReadOnlyList<string> RunCell(KdeCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        Rows(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>Runs one cell for every seed and returns its rows ordered by seed, then iteration.</summary>
    public List<KdeRow> Rows(KdeCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
    {
        var rows = new KdeRow[config.Seeds * config.Iterations];
        var batch = BatchSize(cell);
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            using var family = Family(cell, replicates, first);
            ScenarioRunner.Run(cell.Setting, family, cell.N, config.Iterations, chain =>
            {
                var t = chain.Iteration;
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    var row = new KdeRow(cell.Dataset, cell.Bandwidth, cell.Setting, cell.N, seed, t, chain.Metrics[r, KdeFamily.NllTest]);
                    CheckFinite(row.NonFinite(), cell.ToString(), seed, t);
                    rows[seed * config.Iterations + t - 1] = row;
                }
                onReplicateIterations?.Invoke(replicates);
            }, cancellation);
            Interlocked.Add(ref scoredPairs, family.ScoredPairs);
            Interlocked.Add(ref skippedPairs, family.SkippedPairs);
        }
        return [.. rows];
    }

    public const string SamplesFile = "kde-samples.csv";
    public const string SamplesHeader = "dataset,bandwidth,setting,n,seed,iteration,point,x,y,z";

    /// <summary>
    /// What the pictures show, for seed 0 of every (dataset, bandwidth): the n real training points
    /// (setting <c>real</c>, iteration 0), then for each setting the n points the model fitted at
    /// iteration t samples, for t in <paramref name="iterations"/>. Those are the next iteration's
    /// synthetic data: sampling is a pure function of the model and (seed, iteration), so drawing
    /// them here changes nothing in the chain.
    /// </summary>
    public IEnumerable<string> PictureSamples(int n, IReadOnlyList<int> iterations, CancellationToken cancellation = default)
    {
        foreach (var dataset in config.Datasets)
            foreach (var bandwidth in config.Bandwidths)
            {
                var lines = new List<string>();
                using (var family = Family(new KdeCell(dataset, bandwidth, Setting.Replace, n), 1, 0))
                using (var real = family.DrawReal(n))
                    lines.AddRange(SampleLines(dataset, bandwidth, "real", n, 0, real));
                foreach (var setting in config.Settings)
                {
                    using var family = Family(new KdeCell(dataset, bandwidth, setting, n), 1, 0);
                    ScenarioRunner.Run(setting, family, n, iterations.Max(), chain =>
                    {
                        if (iterations.Contains(chain.Iteration))
                            lines.AddRange(SampleLines(dataset, bandwidth, setting.Name(), n, chain.Iteration, chain.NextGeneration!));
                    }, cancellation, sampleAfterLast: true);
                }
                foreach (var line in lines) yield return line;
            }
    }

    static IEnumerable<string> SampleLines(ToyDataset dataset, Bandwidth bandwidth, string setting, int n, int iteration, PointsBatch batch)
    {
        var d = dataset.Dim();
        var x = batch.Points.GetAsArray1D();
        var prefix = $"{dataset.Name()},{bandwidth},{setting},{n},0,{iteration},";
        for (var p = 0; p < batch.Count; p++)
            yield return prefix + p.ToString(CultureInfo.InvariantCulture) + "," + string.Join(',',
                Enumerable.Range(0, 3).Select(j => j < d ? CsvNumber.Format(x[p * d + j]) : ""));
    }

    public override void Dispose() => pools.Dispose();
}
