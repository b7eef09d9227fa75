using System.Globalization;
using Collapse.Engine.Data;
using Collapse.Engine.Families;
using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Kde;
using Collapse.Engine.Families.Lm;
using Collapse.Engine.Families.Points;
using Collapse.Engine.Mix;
using Collapse.Engine.Results;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;
using Collapse.Kernels.Kde;
using Collapse.Kernels.Lm;
using Collapse.Kernels.Points;
using Collapse.Kernels.Random;
using Collapse.Kernels.Validation;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// The value-of-synthetic-data study (docs/DESIGN.md, section D) as a sweep writing <c>mix.csv</c>.
/// Per seed, a generator is fitted once to <see cref="MixSweepConfig.GeneratorReal"/> real records
/// and samples the synthetic pool (the largest num_synthetic, drawn from iteration 2's synthetic
/// stream); each grid point then fits a fresh model to the first num_real of those real records
/// (in a random order per seed, <see cref="RandomStreams.MixRealOrder"/>, so a prefix is a random subset)
/// plus the first num_synthetic of the pool and scores it on the seed's real test data. Grid
/// points are nested (the same real and synthetic records, in order), so the differences between
/// them are paired, not independent draws. A cell is one num_real, every num_synthetic × seed; the
/// generator of a batch of seeds is made once per process and reused by every cell.
/// </summary>
public sealed class MixSweep : ISweep<MixCell>
{
    readonly ComputeDevice device;
    readonly MixSweepConfig config;
    readonly KernelPath path;
    readonly Dictionary<(int First, int Count), Generated> generated = [];
    GaussianKernels? gaussianKernels;
    KdeKernels? kdeKernels;
    PointKernels? pointKernels;
    LmKernels? lmKernels;

    public MixSweep(ComputeDevice device, MixSweepConfig config, KernelPath path = KernelPath.Auto)
    {
        config.Validate();
        (this.device, this.config, this.path) = (device, config, path);
        MemoryBudgetBytes = device.IsCpu ? 512L << 20 : Math.Min(2L << 30, device.Accelerator.MemorySize / 4);
        Cells = [.. config.Cells()];
        ExtraColumns = config.Family switch
        {
            MixFamily.Gaussian => GaussianMixModels.Columns,
            MixFamily.Kde => KdeMixModels.Columns,
            _ => LmMixModels.Columns,
        };
    }

    public ComputeDevice Device => device;
    public string Experiment => "mix";
    public string CsvName => MixRow.FileName;
    public IReadOnlyList<string> ExtraColumns { get; }
    public string Header => MixRow.Header(ExtraColumns);
    public object Configuration => config;
    public int RowsPerCell => config.Seeds * config.Synthetic.Count;
    public string KernelDescription => config.Family switch
    {
        MixFamily.Lm => LmKernelsFor().UsesSimd ? "cpu-simd (matrix products) + pointer C# (light operations)" : "ilgpu",
        MixFamily.Kde => KdeKernelsFor().UsesSimd ? "cpu-simd (scoring) + ilgpu" : "ilgpu",
        _ => GaussianKernelsFor().UsesSimd ? "cpu-simd (sampling, moments, factorization) + ilgpu; test likelihoods on the host" : "ilgpu; test likelihoods on the host",
    };
    public IReadOnlyList<MixCell> Cells { get; }
    public string Key(MixCell cell) => cell.Key;
    public string SettingName(MixCell cell) => "mix";
    public void CheckFits(MixCell cell) => BatchSize();

    /// <summary>Memory one batch of seeds may use.</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>Record NaN or infinite metrics instead of stopping the cell (--allow-nonfinite).</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Overrides the memory-derived batch size (tests use it to prove batching changes nothing).</summary>
    public int? ReplicatesPerBatch { get; init; }

    GaussianKernels GaussianKernelsFor() => gaussianKernels ??= new GaussianKernels(device.Accelerator, path);
    KdeKernels KdeKernelsFor() => kdeKernels ??= new KdeKernels(device.Accelerator, path);
    LmKernels LmKernelsFor() => lmKernels ??= new LmKernels(device.Accelerator, path);
    PointKernels PointKernelsFor() => pointKernels ??= new PointKernels(device.Accelerator, new RandomKernels(device.Accelerator), KdeKernelsFor().UsesSimd);

    /// <summary>Estimated bytes one seed needs: the generator's real set, the synthetic pool, the largest fit's data (and for the LM its model).</summary>
    public long BytesPerReplicate()
    {
        long largestFit = config.Real.Max() + (long)config.Synthetic.Max();
        long records = config.GeneratorReal + (long)config.Synthetic.Max() + 2 * largestFit;
        return config.Family switch
        {
            MixFamily.Gaussian => 8L * GaussianShape.StrideOf(config.Dim!.Value) * (records + config.TestSize!.Value) + 64L * config.Dim.Value * config.Dim.Value,
            MixFamily.Kde => 8L * config.Dataset!.Value.Dim() * (records + 2 * config.TestSize!.Value) + 16L * config.TestSize.Value,
            _ => LmSweep.BytesPerReplicate(config.Preset!, config.Corpus!, records),
        };
    }

    /// <summary>Seeds per batch: bounded by the memory each needs; refused when one seed cannot fit.</summary>
    public int BatchSize()
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        var perReplicate = BytesPerReplicate();
        var usable = MemoryBudget.Usable(device);
        if (perReplicate > usable)
            throw new InvalidParameterException(ParameterProblem.Unavailable, nameof(config.GeneratorReal), config.GeneratorReal.ToString(CultureInfo.InvariantCulture),
                $"lower {Param(nameof(config.GeneratorReal))}, {Param(nameof(config.Synthetic))} and {Param(nameof(config.Real))} counts",
                $"the {config.FamilyName} mix needs an estimated {perReplicate / 1e9:F1} GB for a single seed " +
                $"({Param(nameof(config.GeneratorReal))} {config.GeneratorReal}, largest {Param(nameof(config.Synthetic))} {config.Synthetic.Max()}, " +
                $"largest {Param(nameof(config.Real))} {config.Real.Max()}), more than " +
                $"{(device.IsCpu ? "this machine" : device.Accelerator.Name)} can give ({usable / 1e9:F1} GB usable)",
                subject: $"the {config.FamilyName} mix",
                advice: $"lower those counts");
        return (int)Math.Clamp(MemoryBudgetBytes / Math.Max(1, perReplicate), 1, config.Seeds);
    }

    /// <summary>A batch of seeds' models, its generator's real set and its synthetic pool.</summary>
    sealed class Generated(MixModels models, IDataBatch real, IDataBatch? synthetic) : IDisposable
    {
        public MixModels Models { get; } = models;
        public IDataBatch Real { get; } = real;
        public IDataBatch? Synthetic { get; } = synthetic;

        public void Dispose()
        {
            Synthetic?.Dispose();
            Real.Dispose();
            Models.Dispose();
        }
    }

    MixModels CreateModels(int replicates, int first) => config.Family switch
    {
        MixFamily.Gaussian => new GaussianMixModels(device.Accelerator,
            new GaussianFamily(device.Accelerator, GaussianKernelsFor(), config.Dim!.Value, replicates, first, config.Seed, GaussianMethod.Data),
            first, config.Seed, config.TestSize!.Value, config.Generator == MixGenerator.Truth, config.GeneratorShift),
        MixFamily.Kde => new KdeMixModels(device.Accelerator, new KdeFamily(device.Accelerator, KdeKernelsFor(), PointKernelsFor(),
            config.Dataset!.Value, config.Bandwidth!.Value, replicates, first, config.Seed, config.TestSize!.Value,
            fittedCapacity: Math.Max(config.GeneratorReal, config.Real.Max() + (long)config.Synthetic.Max()))),
        _ => new LmMixModels(new LmFamily(LmKernelsFor(), config.Corpus!, config.Preset!.Config(config.Corpus!), config.Preset.Training,
            replicates, first, config.Seed, syntheticCount: 1, fixedSteps: config.Steps, maxBatch: LmSweep.ForwardBatch) { SampleOnEvaluate = false }, config.Preset.Name),
    };

    /// <summary>The generator's data for a batch of seeds: made on first use, then kept for every cell.</summary>
    Generated Generate(int first, int replicates)
    {
        if (generated.TryGetValue((first, replicates), out var done)) return done;
        var models = CreateModels(replicates, first);
        try
        {
            var orders = new int[replicates][];
            Parallel.For(0, replicates, r => orders[r] = HostSampling.Permutation(
                new RandomStream(config.Seed, (uint)(first + r), 0, RandomStreams.MixRealOrder), config.GeneratorReal));
            var real = models.Reorder(models.Family.DrawReal(config.GeneratorReal), orders);
            IDataBatch? synthetic = null;
            var poolSize = config.Synthetic.Max();
            if (poolSize > 0)
            {
                if (models.FitsGenerator) models.Family.Fit(real);
                synthetic = models.Synthetic(models.Family.Sample(poolSize, 2));
            }
            return generated[(first, replicates)] = new Generated(models, real, synthetic);
        }
        catch
        {
            models.Dispose();
            throw;
        }
    }

    IReadOnlyList<string> ISweep<MixCell>.RunCell(MixCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        RunCell(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>Runs one num_real for every num_synthetic and seed; rows ordered by seed, then num_synthetic as listed.</summary>
    public List<MixRow> RunCell(MixCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
    {
        var synthetic = config.Synthetic;
        var rows = new MixRow[config.Seeds * synthetic.Count];
        var batch = BatchSize();
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            var data = Generate(first, replicates);
            for (var k = 0; k < synthetic.Count; k++)
            {
                cancellation.ThrowIfCancellationRequested();
                using (var fit = data.Models.Combine(data.Real, cell.NumReal, data.Synthetic ?? data.Real, synthetic[k]))
                    data.Models.Family.Fit(fit);
                var scores = data.Models.Evaluate();
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    if (!AllowNonFinite && scores[r].NonFinite is { } bad)
                        throw new NonFiniteResultException($"{cell} num_synthetic={synthetic[k]}", seed, null, bad.Column, bad.Value);
                    rows[seed * synthetic.Count + k] = new MixRow(config.FamilyName, cell.NumReal, synthetic[k], seed, scores[r].Metric, scores[r].Extra);
                }
                onReplicateIterations?.Invoke(replicates);
            }
        }
        return [.. rows];
    }

    public void Dispose()
    {
        foreach (var g in generated.Values) g.Dispose();
        generated.Clear();
    }
}
