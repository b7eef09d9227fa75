using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// Runs every (regime, setting, preset) cell of a language-model sweep over all seeds into <c>lm.csv</c>
/// lines, batching as many seeds per <see cref="GptModel"/> as the memory budget allows. Numbers do
/// not depend on the batching. With <see cref="NamesDirectory"/> set, each cell also writes
/// <c>NAME/&lt;preset&gt;-&lt;setting&gt;.txt</c>: 20 of seed 0's real training documents, then 20 of
/// the documents each iteration's model samples.
/// </summary>
public sealed class LmSweep : Sweep<LmCell>
{
    public const string CsvFile = "lm.csv";
    public const string NamesFolder = "names";
    public const int NamesShown = 20;

    /// <summary>Sequences per replicate one forward holds when evaluating and sampling.</summary>
    public const int ForwardBatch = 256;

    readonly LmSweepConfig config;
    readonly LmKernels kernels;

    public LmSweep(ComputeDevice device, LmSweepConfig config, KernelPath path = KernelPath.Auto)
        : base(device, "lm", CsvFile, LmRow.Header, Validated(config), config.Cells(), config.Seeds * config.Iterations, gpuBudgetCap: 4L << 30)
    {
        this.config = config;
        kernels = new LmKernels(device.Accelerator, path);
    }

    public override string KernelDescription => kernels.UsesSimd ? "cpu-simd (matrix products) + pointer C# (light operations)" : "ilgpu";
    public override void CheckFits(LmCell cell) => BatchSize(cell);

    /// <summary>Where the per-cell files of sampled names go (null: none are written).</summary>
    public string? NamesDirectory { get; init; }

    /// <summary>Estimated bytes one replicate of a cell needs: weights, gradients and AdamW moments, activations at the forward batch, the sampler's key/value cache, and its documents.</summary>
    public long BytesPerReplicate(LmCell cell) =>
        BytesPerReplicate(cell.Preset, config.Corpus, (long)config.N * (cell.Setting == Setting.Replace ? 3 : config.Iterations + 2));

    /// <summary>
    /// Estimated bytes one replicate of <paramref name="model"/> needs, holding <paramref name="documents"/>
    /// documents (the mix study uses it too): the model's own estimate of its device buffers
    /// (<see cref="GptModel.BytesPerReplicate"/>) and the documents' token rows on the host.
    /// </summary>
    public static long BytesPerReplicate(LmModel model, LmCorpus corpus, long documents)
    {
        var gpt = model.Config(corpus);
        // The model, its training set and orders on the device, and the documents on the host.
        return GptModel.BytesPerReplicate(gpt, Math.Max(ForwardBatch, model.Batch)) + GptModel.TrainingSetBytesPerReplicate(gpt, documents)
               + documents * (2 * 4L * gpt.BlockSize + 64);
    }

    /// <summary>Seeds per batch for a cell: bounded by the memory each replicate needs.</summary>
    public int BatchSize(LmCell cell)
    {
        if (ReplicatesPerBatch is int fixedSize) return Math.Clamp(fixedSize, 1, config.Seeds);
        var perReplicate = BytesPerReplicate(cell);
        var usable = MemoryBudget.Usable(Device);
        if (perReplicate > usable)
            throw new InvalidParameterException(ParameterProblem.Unavailable, nameof(config.TrainSize), config.N.ToString(CultureInfo.InvariantCulture),
                $"a lower {Param(nameof(config.TrainSize))}, fewer {Param(nameof(config.Iterations))} or a smaller model",
                $"cell {cell} needs an estimated {perReplicate / 1e9:F1} GB for a single seed, more than " +
                $"{(Device.IsCpu ? "this machine" : Device.Accelerator.Name)} can give ({usable / 1e9:F1} GB usable)",
                subject: cell.ToString(),
                advice: $"lower {Param(nameof(config.TrainSize))}, {Param(nameof(config.Iterations))} or the model's size");
        return (int)Math.Clamp(MemoryBudgetBytes / Math.Max(1, perReplicate), 1, config.Seeds);
    }

    /// <summary>A family for one batch of a cell's seeds: from scratch, or fine-tuning the preset's base.</summary>
    public LmFamily Family(LmCell cell, int replicates, int first) => new(kernels, config.Corpus, cell.Preset.Config(config.Corpus),
        cell.Preset.TrainingFor(cell.Regime), replicates, first, config.Seed, config.Steps, ForwardBatch,
        start: cell.Regime == LmRegime.Finetune ? Base(cell.Preset).Parameters : null);

    /// <summary>Where pretrained bases are cached (null: <see cref="LmBase.DefaultCacheDirectory"/>).</summary>
    public string? BaseCacheDirectory { get; init; }

    /// <summary>Where the sweep says what it is doing beyond its rows (a base pretrained or read back).</summary>
    public Action<string>? Log { get; init; }

    readonly Dictionary<string, LmBaseModel> bases = [];

    /// <summary>The bases the fine-tuning cells used so far, by preset name.</summary>
    public IReadOnlyDictionary<string, LmBaseModel> Bases => bases;

    /// <summary>The preset's base: pretrained once (or read from the cache) and kept for every cell and batch.</summary>
    public LmBaseModel Base(LmModel preset)
    {
        if (!bases.TryGetValue(preset.Name, out var model))
            bases[preset.Name] = model = LmBase.Load(kernels, config.Corpus, config.BaseRecipe(preset), BaseCacheDirectory, Log);
        return model;
    }

    public override IReadOnlyList<string> RunCell(LmCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation) =>
        Rows(cell, onReplicateIterations, cancellation).Select(r => r.ToCsv()).ToList();

    /// <summary>Runs one cell for every seed and returns its rows ordered by seed, then iteration.</summary>
    public List<LmRow> Rows(LmCell cell, Action<long>? onReplicateIterations = null, CancellationToken cancellation = default)
    {
        var rows = new LmRow[config.Seeds * config.Iterations];
        var batch = BatchSize(cell);
        var decode = config.Corpus.Corpus;
        for (var first = 0; first < config.Seeds; first += batch)
        {
            var replicates = Math.Min(batch, config.Seeds - first);
            using var family = Family(cell, replicates, first);
            var shown = new List<string>();
            if (first == 0)
            {
                using var real = family.DrawReal(config.N);
                shown.Add($"# {NamesShown} documents of seed 0, preset {cell.Preset.Name}, setting {cell.Setting.Name()}, regime {cell.Regime.Name()}: real training data, then what each iteration's model samples (temperature 1)");
                shown.Add("real");
                shown.AddRange(real.Names[0].Take(NamesShown).Select(n => Shown(decode.Decode(n))));
            }
            ScenarioRunner.Run(cell.Setting, family, config.N, config.Iterations, chain =>
            {
                var (t, metrics) = (chain.Iteration, chain.Metrics);
                for (var r = 0; r < replicates; r++)
                {
                    var seed = first + r;
                    var row = new LmRow(cell.Regime, cell.Preset.Name, cell.Setting, seed, t, family.LastFitDocuments, family.LastFitSteps,
                        metrics[r, LmFamily.TestLoss], metrics[r, LmFamily.TrainLoss], metrics[r, LmFamily.UniqueFraction], metrics[r, LmFamily.MeanLength]);
                    CheckFinite(row.NonFinite(), cell.ToString(), seed, t);
                    rows[seed * config.Iterations + t - 1] = row;
                }
                if (first == 0 && chain.NextGeneration is { } sample)
                {
                    shown.Add($"iteration {t}");
                    shown.AddRange(sample.Names[0].Take(NamesShown).Select(n => Shown(decode.Decode(n))));
                }
                onReplicateIterations?.Invoke(replicates);
            }, cancellation);
            if (first == 0 && NamesDirectory is not null) WriteNames(cell, shown);
        }
        return [.. rows];
    }

    /// <summary>One document per line, indented; a sampled empty document (the end token first) spelled out.</summary>
    static string Shown(string document) => document.Length == 0 ? "  (empty)" : "  " + document;

    void WriteNames(LmCell cell, List<string> lines)
    {
        Directory.CreateDirectory(NamesDirectory!);
        var regime = cell.Regime == LmRegime.Scratch ? "" : $"-{cell.Regime.Name()}";
        var path = Path.Combine(NamesDirectory!, $"{cell.Preset.Name}-{cell.Setting.Name()}{regime}.txt");
        var temporary = path + ".tmp";
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, path, overwrite: true);
    }

}
