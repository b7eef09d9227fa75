using System.Text.Json.Serialization;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// A model size and training recipe as a sweep runs it: a named <see cref="GptPreset"/> with the
/// command line's overrides applied (the CSV's <c>preset</c> column carries the name; the manifest the numbers).
/// </summary>
/// <param name="LearningRate">AdamW's learning rate training from scratch (and pretraining a base).</param>
/// <param name="FinetuneLearningRate">AdamW's learning rate fine-tuning a base, after <paramref name="FinetuneWarmupSteps"/> of linear warm-up.</param>
public sealed record LmModel(string Name, int Layers, int Width, int Heads, int Batch, double LearningRate,
    double FinetuneLearningRate, int FinetuneWarmupSteps)
{
    public static LmModel From(GptPreset preset) =>
        new(preset.Name, preset.Layers, preset.Width, preset.Heads, preset.Training.Batch, preset.Training.LearningRate,
            preset.Finetune.LearningRate, preset.Finetune.WarmupSteps);

    public GptConfig Config(LmCorpus corpus) => new(corpus.VocabularySize, corpus.BlockSize, Layers, Width, Heads);

    /// <summary>Training from scratch (and pretraining a base).</summary>
    public GptTraining Training => new(Batch, LearningRate);

    /// <summary>Fine-tuning a base.</summary>
    public GptTraining FinetuneTraining => new(Batch, FinetuneLearningRate, WarmupSteps: FinetuneWarmupSteps);

    public GptTraining TrainingFor(LmRegime regime) => regime == LmRegime.Finetune ? FinetuneTraining : Training;
}

/// <summary>
/// Where every fit of a language-model chain starts (docs/DESIGN.md, section C): <see cref="Scratch"/>,
/// each seed's own random weights (the authors' TinyStories pretraining experiment); <see cref="Finetune"/>,
/// one base pretrained on Shakespeare's words (<see cref="LmBase"/>), as the paper fine-tunes one
/// pretrained Gemma-2 checkpoint at every iteration.
/// </summary>
public enum LmRegime { Scratch, Finetune }

public static class LmRegimes
{
    public static readonly IReadOnlyList<LmRegime> All = [LmRegime.Scratch, LmRegime.Finetune];

    public static string Name(this LmRegime regime) => regime switch
    {
        LmRegime.Scratch => "scratch",
        LmRegime.Finetune => "finetune",
        _ => throw new ArgumentOutOfRangeException(nameof(regime), regime, null),
    };

    public static LmRegime Parse(string text) =>
        All.FirstOrDefault(r => string.Equals(r.Name(), text.Trim(), StringComparison.OrdinalIgnoreCase), (LmRegime)(-1)) is var regime && regime >= 0
            ? regime
            : throw new ArgumentException($"unknown regime '{text}': expected scratch or finetune");
}

/// <summary>
/// The grid of a language-model sweep (docs/DESIGN.md, section C): cells are (regime, setting, preset), each run
/// for every seed over <see cref="Iterations"/> model-fitting iterations.
/// </summary>
public sealed record LmSweepConfig : ISweepConfig
{
    /// <summary>The corpus and its split (recorded in the manifest by source, hash and sizes).</summary>
    [JsonIgnore]
    public LmCorpus Corpus { get; init; } = null!;

    public IReadOnlyList<LmModel> Presets { get; init; } = [LmModel.From(GptPreset.Tiny)];
    public IReadOnlyList<Setting> Settings { get; init; } = Scenarios.Settings.All;

    /// <summary>Where fits start: from scratch, from a pretrained base, or both (cells of each).</summary>
    public IReadOnlyList<LmRegime> Regimes { get; init; } = [LmRegime.Scratch];

    /// <summary>Pretraining steps of each preset's base (null: one epoch over the words, <see cref="LmBaseRecipe.EpochSteps"/>).</summary>
    public int? BaseSteps { get; init; }

    /// <summary>The base a fine-tuning cell of <paramref name="model"/> starts from (master seed 0: one base for every run).</summary>
    public LmBaseRecipe BaseRecipe(LmModel model) => new(model, BaseSteps ?? LmBaseRecipe.EpochSteps(model));
    public int Seeds { get; init; } = 3;
    public int Iterations { get; init; } = 5;

    /// <summary>n: real training documents per seed, and synthetic documents sampled per iteration (null: the whole training split).</summary>
    public int? TrainSize { get; init; }

    /// <summary>AdamW steps per fit (null: one epoch over the fit's documents).</summary>
    public int? Steps { get; init; }

    /// <summary>Master seed: the first key word of every random stream (not of the corpus split).</summary>
    public uint Seed { get; init; }

    public string CorpusSource => Corpus.Source;
    public string CorpusSha256 => Corpus.Sha256;
    public int BlockSize => Corpus.BlockSize;
    public int Vocabulary => Corpus.VocabularySize;
    public int TestDocuments => Corpus.Test.Count;

    /// <summary>n as run: <see cref="TrainSize"/>, or the training split's size.</summary>
    public int N => TrainSize ?? Corpus.Train.Count;

    /// <summary>Throws <see cref="InvalidParameterException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Corpus is null) throw new InvalidOperationException("an LM sweep needs a corpus");
        if (Presets.Count == 0) throw Empty(nameof(Presets), $"expected some of {string.Join(", ", GptPreset.All.Select(p => p.Name))}");
        RefuseRepeats(nameof(Presets), Presets.Select(p => p.Name), "preset");
        foreach (var p in Presets)
        {
            if (p.Layers < 1 || p.Layers > 64) throw BadValue(nameof(p.Layers), p.Layers, $"give 1 to 64 blocks");
            if (p.Width < 1 || p.Width > 4096) throw BadValue(nameof(p.Width), p.Width, $"give 1 to 4096");
            if (p.Heads < 1) throw BadValue(nameof(p.Heads), p.Heads, $"give at least 1 head");
            if (p.Width % p.Heads != 0)
                throw Conflict(nameof(p.Width), p.Width, nameof(p.Heads), $"a multiple of {Param(nameof(p.Heads))}",
                    $"{Param(nameof(p.Width))} {p.Width} is not divisible by {Param(nameof(p.Heads))} {p.Heads} (preset {p.Name}): each head takes width / heads dimensions");
            if (p.Batch < 1 || p.Batch > 65536) throw BadValue(nameof(p.Batch), p.Batch, $"give 1 to 65,536 documents per step");
            if (!(p.LearningRate > 0) || !double.IsFinite(p.LearningRate))
                throw BadValue(nameof(p.LearningRate), p.LearningRate, $"give a positive learning rate, e.g. {Param(nameof(p.LearningRate))} 5e-4");
        }
        if (Seeds < 1) throw BadValue(nameof(Seeds), Seeds, $"give at least 1 seed");
        if (Iterations < 1) throw BadValue(nameof(Iterations), Iterations, $"give at least 1 iteration (iteration 1 is the fit on real data)");
        GaussianSweepConfig.RefuseTooManyRows(Seeds, Iterations);
        if (TrainSize is { } n && (n < 1 || n > Corpus.Train.Count))
            throw BadValue(nameof(TrainSize), n, $"the corpus's training split holds {Corpus.Train.Count:N0} documents (give 1 to {Corpus.Train.Count:N0})");
        if (Steps is < 1) throw BadValue(nameof(Steps), Steps, $"give at least 1 step per fit (or leave it out: one epoch)");
        if (Settings.Count == 0) throw Empty(nameof(Settings), $"expected some of replace, accumulate, accumulate-subsample");
        RefuseRepeats(nameof(Settings), Settings, "setting", s => s.Name());
        if (Regimes.Count == 0) throw Empty(nameof(Regimes), $"expected some of scratch, finetune");
        RefuseRepeats(nameof(Regimes), Regimes, "regime", r => r.Name());
        if (BaseSteps is < 1) throw BadValue(nameof(BaseSteps), BaseSteps, $"give at least 1 pretraining step (or leave it out: one epoch over the words)");
        foreach (var p in Presets.Where(_ => Regimes.Contains(LmRegime.Finetune)))
        {
            if (!(p.FinetuneLearningRate > 0) || !double.IsFinite(p.FinetuneLearningRate))
                throw BadValue(nameof(p.FinetuneLearningRate), p.FinetuneLearningRate, $"give a positive fine-tuning learning rate, e.g. {Param(nameof(p.FinetuneLearningRate))} 2e-4");
            if (p.FinetuneWarmupSteps < 0)
                throw BadValue(nameof(p.FinetuneWarmupSteps), p.FinetuneWarmupSteps, $"give 0 or more warm-up steps");
        }
        if (Regimes.Contains(LmRegime.Finetune))
        {
            var missing = "abcdefghijklmnopqrstuvwxyz".Where(c => !Corpus.Corpus.Characters.Contains(c)).ToArray();
            if (missing.Length > 0 || BlockSize < 16)
            {
                var what = missing.Length > 0 ? $"lacks the letters {new string(missing)}" : $"has block size {BlockSize}";
                throw Conflict(nameof(Regimes), "finetune", nameof(Corpus), $"a corpus over the letters a-z with block size at least 16",
                    $"the base is pretrained on Shakespeare's words, letters a-z up to 15 long; {Param(nameof(Corpus))} {Corpus.Source} {what}");
            }
        }
        if ((long)N * Iterations > int.MaxValue / Math.Max(1, BlockSize))
            throw Conflict(nameof(TrainSize), N, nameof(Iterations), $"{Param(nameof(TrainSize))} × {Param(nameof(Iterations))} × block size at most {int.MaxValue:N0} tokens",
                $"{Param(nameof(TrainSize))} {N} × {Param(nameof(Iterations))} {Iterations} is too many documents for Accumulate's last fit");
    }

    /// <summary>Cells in run order: regime, then setting, then preset.</summary>
    public IEnumerable<LmCell> Cells()
    {
        foreach (var r in Regimes)
            foreach (var s in Settings)
                foreach (var p in Presets)
                    yield return new LmCell(p, s, r);
    }
}

public readonly record struct LmCell(LmModel Preset, Setting Setting, LmRegime Regime = LmRegime.Scratch) : ISweepCell
{
    /// <summary>The cell as its CSV lines spell it: their first three columns.</summary>
    public string Key => $"{Regime.Name()},{Preset.Name},{Setting.Name()}";
    public string SettingName => Setting.Name();

    public override string ToString() => $"{Setting.Name()} {Preset.Name}" + (Regime == LmRegime.Scratch ? "" : $" {Regime.Name()}");
}
