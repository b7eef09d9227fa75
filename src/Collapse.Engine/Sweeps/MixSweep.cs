using Collapse.Engine.Families.Kde;
using Collapse.Engine.Mix;
using Collapse.Kernels.Points;
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
public sealed class MixSweep : Sweep<MixCell>
{
    readonly MixSweepConfig config;
    readonly KernelPath path;
    readonly Dictionary<(int First, int Count), IMixBatch> generated = [];
    GaussianKernels? gaussianKernels;
    KdeKernels? kdeKernels;
    PointKernels? pointKernels;
    LmKernels? lmKernels;
    RegressionKernels? regressionKernels;
    DeviceMemory? memory;

    /// <summary>Where the regression batches allocate (its peak is what the memory estimate must cover).</summary>
    public DeviceMemory Memory => memory ??= new DeviceMemory(Device.Accelerator);

    public MixSweep(ComputeDevice device, MixSweepConfig config, KernelPath path = KernelPath.Auto)
        : base(device, "mix", MixRow.FileName, MixRow.Header(ColumnsOf(Validated(config))), config, config.Cells(), config.Seeds * config.Synthetic.Count)
    {
        (this.config, this.path) = (config, path);
        ExtraColumns = ColumnsOf(config);
    }

    static IReadOnlyList<string> ColumnsOf(MixSweepConfig config) => config.Family switch
    {
        MixFamily.Gaussian => GaussianMixModels.Columns,
        MixFamily.Kde => KdeMixModels.Columns,
        MixFamily.Regression => RegressionMixModels.Columns,
        _ => LmMixModels.Columns,
    };

    public IReadOnlyList<string> ExtraColumns { get; }
    public override string KernelDescription => config.Family switch
    {
        MixFamily.Lm => LmKernelsFor().UsesSimd ? "cpu-simd (matrix products) + pointer C# (light operations)" : "ilgpu",
        MixFamily.Kde => KdeKernelsFor().UsesSimd ? "cpu-simd (scoring) + ilgpu" : "ilgpu",
        MixFamily.Regression => RegressionKernelsFor().UsesSimd ? "cpu-simd (labels, normal equations, factorization) + ilgpu" : "ilgpu",
        _ => GaussianKernelsFor().UsesSimd ? "cpu-simd (sampling, moments, factorization) + ilgpu; test likelihoods on the host" : "ilgpu; test likelihoods on the host",
    };
    public override void CheckFits(MixCell cell) => BatchSize();

    GaussianKernels GaussianKernelsFor() => gaussianKernels ??= new GaussianKernels(Device.Accelerator, path);
    KdeKernels KdeKernelsFor() => kdeKernels ??= new KdeKernels(Device.Accelerator, path);
    LmKernels LmKernelsFor() => lmKernels ??= new LmKernels(Device.Accelerator, path);
    RegressionKernels RegressionKernelsFor() => regressionKernels ??= new RegressionKernels(Device.Accelerator, path);
    PointKernels PointKernelsFor() => pointKernels ??= new PointKernels(Device.Accelerator, new RandomKernels(Device.Accelerator), KdeKernelsFor().UsesSimd);

    /// <summary>Estimated bytes one seed needs: the generator's real set, the synthetic pool, the largest fit's data (and for the LM its model).</summary>
    public long BytesPerReplicate()
    {
        long largestFit = config.Real.Max() + (long)config.Synthetic.Max();
        long records = config.GeneratorReal + (long)config.Synthetic.Max() + 2 * largestFit;
        return config.Family switch
        {
            // The records in flight beside the families' own estimates of their models.
            MixFamily.Gaussian => 8L * GaussianShape.StrideOf(config.Dim!.Value) * (records + config.TestSize!.Value)
                + GaussianFamily.ModelBytesPerReplicate(config.Dim.Value, accumulates: false),
            MixFamily.Kde => 8L * config.Dataset!.Value.Dim() * records + KdeFamily.BytesPerReplicate(config.Dataset.Value.Dim(), 0,
                config.TestSize!.Value, Math.Max(config.GeneratorReal, largestFit), poolCapacity: 0),
            MixFamily.Regression => RegressionMixModels.BytesPerReplicate(config.Dim!.Value, config.GeneratorReal, config.Synthetic.Max(), config.TestSize!.Value,
                RegressionKernelsFor().UsesSimd),
            _ => LmSweep.BytesPerReplicate(config.Preset!, config.Corpus!, records),
        };
    }

    /// <summary>Seeds per batch: bounded by the memory each needs; refused when one seed cannot fit.</summary>
    public int BatchSize()
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        var perReplicate = BytesPerReplicate();
        var usable = MemoryBudget.Usable(Device);
        if (perReplicate > usable)
            throw new InvalidParameterException(ParameterProblem.Unavailable, nameof(config.GeneratorReal), config.GeneratorReal.ToString(CultureInfo.InvariantCulture),
                $"lower {Param(nameof(config.GeneratorReal))}, {Param(nameof(config.Synthetic))} and {Param(nameof(config.Real))} counts",
                $"the {config.FamilyName} mix needs an estimated {perReplicate / 1e9:F1} GB for a single seed " +
                $"({Param(nameof(config.GeneratorReal))} {config.GeneratorReal}, largest {Param(nameof(config.Synthetic))} {config.Synthetic.Max()}, " +
                $"largest {Param(nameof(config.Real))} {config.Real.Max()}), more than " +
                $"{(Device.IsCpu ? "this machine" : Device.Accelerator.Name)} can give ({usable / 1e9:F1} GB usable)",
                subject: $"the {config.FamilyName} mix",
                advice: $"lower those counts");
        return (int)Math.Clamp(MemoryBudgetBytes / Math.Max(1, perReplicate), 1, config.Seeds);
    }

    IMixBatch CreateModels(int replicates, int first) => config.Family switch
    {
        MixFamily.Gaussian => new GaussianMixModels(Device.Accelerator,
            new GaussianFamily(Device.Accelerator, GaussianKernelsFor(), config.Dim!.Value, replicates, first, config.Seed),
            first, config.Seed, config.TestSize!.Value, config.Generator == MixGenerator.Truth, config.GeneratorShift),
        MixFamily.Kde => new KdeMixModels(Device.Accelerator, new KdeFamily(Device.Accelerator, KdeKernelsFor(), PointKernelsFor(),
            config.Dataset!.Value, config.Bandwidth!.Value, replicates, first, config.Seed, config.TestSize!.Value,
            fittedCapacity: Math.Max(config.GeneratorReal, config.Real.Max() + (long)config.Synthetic.Max()))),
        MixFamily.Regression => new RegressionMixModels(RegressionKernelsFor(), Memory, config.Dim!.Value, config.NoiseVariance!.Value, config.TestSize!.Value, replicates),
        _ => new LmMixModels(new LmFamily(LmKernelsFor(), config.Corpus!, config.Preset!.Config(config.Corpus!), config.Preset.TrainingFor(config.Regime),
            replicates, first, config.Seed, fixedSteps: config.Steps, maxBatch: LmSweep.ForwardBatch,
            start: config.Regime == LmRegime.Finetune ? LmBase().Parameters : null), config.Preset.Name),
    };

    /// <summary>Where the sweep says what it is doing beyond its rows (the LM base pretrained or read back).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Where pretrained bases are cached (null: <see cref="Families.Lm.LmBase.DefaultCacheDirectory"/>).</summary>
    public string? BaseCacheDirectory { get; init; }

    LmBaseModel? lmBase;

    /// <summary>LM, fine-tuning: the preset's base, pretrained once (or read from the cache) for every batch.</summary>
    LmBaseModel LmBase() =>
        lmBase ??= Families.Lm.LmBase.Load(LmKernelsFor(), config.Corpus!, config.LmConfig.BaseRecipe(config.Preset!), BaseCacheDirectory, Log);


    /// <summary>The generator's data for a batch of seeds: made on first use, then kept for every cell.</summary>
    IMixBatch Generate(int first, int replicates)
    {
        if (generated.TryGetValue((first, replicates), out var done)) return done;
        var models = CreateModels(replicates, first);
        try
        {
            models.Generate(config.Seed, first, config.GeneratorReal, config.Synthetic.Max());
            return generated[(first, replicates)] = models;
        }
        catch
        {
            models.Dispose();
            throw;
        }
    }

    public override IReadOnlyList<string> RunCell(MixCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        Rows(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>Runs one num_real for every num_synthetic and seed; rows ordered by seed, then num_synthetic as listed.</summary>
    public List<MixRow> Rows(MixCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
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
                var scores = data.FitAndScore(cell.NumReal, synthetic[k]);
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    CheckFinite(scores[r].NonFinite, $"{cell} num_synthetic={synthetic[k]}", seed, null);
                    rows[seed * synthetic.Count + k] = new MixRow(config.FamilyName, cell.NumReal, synthetic[k], seed, scores[r].Metric, scores[r].Extra);
                }
                onReplicateIterations?.Invoke(replicates);
            }
        }
        return [.. rows];
    }

    public override void Dispose()
    {
        foreach (var g in generated.Values) g.Dispose();
        generated.Clear();
    }
}
