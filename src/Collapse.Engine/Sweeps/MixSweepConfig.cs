using System.Text.Json.Serialization;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>The model families the mix study runs.</summary>
public enum MixFamily { Gaussian, Kde, Lm, Regression }

/// <summary>Which model samples the synthetic pool.</summary>
public enum MixGenerator
{
    /// <summary>A model of the family fitted once per seed to <see cref="MixSweepConfig.GeneratorReal"/> real records (the paper's study).</summary>
    Fitted,
    /// <summary>The true distribution itself (Gaussian only): synthetic data as good as real.</summary>
    Truth,
}

/// <summary>
/// The grid of a value-of-synthetic-data study (docs/DESIGN.md, section D) for one family: cells are
/// num_real values, each run for every num_synthetic and seed. Family options not used by
/// <see cref="Family"/> stay null.
/// </summary>
public sealed record MixSweepConfig : ISweepConfig
{
    public MixFamily Family { get; init; }
    public IReadOnlyList<int> Real { get; init; } = [];
    public IReadOnlyList<int> Synthetic { get; init; } = [];

    /// <summary>Real records per seed the generator is fitted to; every num_real is a prefix of them.</summary>
    public int GeneratorReal { get; init; }
    public MixGenerator Generator { get; init; } = MixGenerator.Fitted;
    /// <summary>Gaussian: added to the first coordinate of every synthetic point (a biased generator).</summary>
    public double GeneratorShift { get; init; }
    public int Seeds { get; init; }
    /// <summary>Master seed: the first key word of every random stream.</summary>
    public uint Seed { get; init; }
    /// <summary>Real test records per seed (Gaussian, KDE); the LM's are its corpus's test split.</summary>
    public int? TestSize { get; init; }

    /// <summary>Gaussian, regression: the dimension d.</summary>
    public int? Dim { get; init; }
    /// <summary>Regression: the label noise variance σ².</summary>
    public double? NoiseVariance { get; init; }
    public ToyDataset? Dataset { get; init; }
    public Bandwidth? Bandwidth { get; init; }

    [JsonIgnore]
    public LmCorpus? Corpus { get; init; }
    public LmModel? Preset { get; init; }
    /// <summary>LM: AdamW steps per fit (null: one epoch over the fit's documents, Accumulate's rule — so more data also means more steps).</summary>
    public int? Steps { get; init; }
    /// <summary>LM: where the generator's fit and every grid point's fit start (fine-tuning a pretrained base is the paper's protocol).</summary>
    public LmRegime Regime { get; init; } = LmRegime.Scratch;
    /// <summary>LM, fine-tuning: the base's pretraining steps (null: one epoch over the words).</summary>
    public int? BaseSteps { get; init; }
    public string? CorpusSource => Corpus?.Source;
    public string? CorpusSha256 => Corpus?.Sha256;

    public string FamilyName => Family.ToString().ToLowerInvariant();

    /// <summary>
    /// The defaults per family, chosen to span "synthetic helps" to "synthetic hurts": num_real from
    /// scarce to all of the generator's real set, num_synthetic from none to several times it.
    /// </summary>
    public static MixSweepConfig Defaults(MixFamily family, LmCorpus? corpus = null) => family switch
    {
        MixFamily.Gaussian => new MixSweepConfig
        {
            Family = family, Dim = 5, GeneratorReal = 10_000, TestSize = 1000, Seeds = 20,
            Real = [10, 32, 100, 316, 1000, 3162, 10_000], Synthetic = [0, 32, 100, 316, 1000, 3162, 10_000, 31_623],
        },
        MixFamily.Kde => new MixSweepConfig
        {
            Family = family, Dataset = ToyDataset.Moons, Bandwidth = Kernels.Kde.Bandwidth.Of(0.1), GeneratorReal = 10_000, TestSize = 500, Seeds = 20,
            Real = [10, 32, 100, 316, 1000, 3162, 10_000], Synthetic = [0, 32, 100, 316, 1000, 3162, 10_000, 31_623],
        },
        MixFamily.Regression => new MixSweepConfig
        {
            // num_real starts at 16 > d + 3: below, the real-only fit's error has infinite variance (inverse-Wishart moments).
            Family = family, Dim = 10, NoiseVariance = 1.0, GeneratorReal = 10_000, TestSize = 1000, Seeds = 20,
            Real = [16, 32, 100, 316, 1000, 3162, 10_000], Synthetic = [0, 32, 100, 316, 1000, 3162, 10_000, 31_623],
        },
        MixFamily.Lm => LmDefaults(corpus ?? throw new ArgumentNullException(nameof(corpus))),
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>The paper's real counts (128 … 12,000 HelpSteer2 conversations) and synthetic counts (0 … 40,000) scaled to a corpus of names: up to all of its training split.</summary>
    static MixSweepConfig LmDefaults(LmCorpus corpus)
    {
        var all = corpus.Train.Count;
        return new MixSweepConfig
        {
            Family = MixFamily.Lm, Corpus = corpus, Preset = LmModel.From(Kernels.Lm.GptPreset.Tiny), GeneratorReal = all, Seeds = 3,
            Real = [.. new[] { 100, 316, 1000, 3162, 10_000 }.Where(n => n < all).Append(all)],
            Synthetic = [0, 1000, 3162, 10_000, 31_623],
        };
    }

    /// <summary>Throws <see cref="InvalidParameterException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Real.Count == 0) throw Empty(nameof(Real), $"give at least one count of real records, e.g. {Param(nameof(Real))} 100,1000");
        if (Synthetic.Count == 0) throw Empty(nameof(Synthetic), $"give at least one count of synthetic records, e.g. {Param(nameof(Synthetic))} 0,1000");
        var minimumReal = Family == MixFamily.Gaussian ? 2 : 1;
        foreach (var n in Real)
            if (n < minimumReal) throw BadValue(nameof(Real), n, $"each fit needs at least {minimumReal} real record{(minimumReal > 1 ? "s" : "")} (num_real ≥ {minimumReal})");
        foreach (var n in Synthetic)
            if (n < 0) throw BadValue(nameof(Synthetic), n, $"a count of synthetic records is 0 or more");
        RefuseRepeats(nameof(Real), Real, "count");
        RefuseRepeats(nameof(Synthetic), Synthetic, "count");
        if (Seeds < 1) throw BadValue(nameof(Seeds), Seeds, $"give at least 1 seed");
        if ((long)Seeds * Synthetic.Count > GaussianSweepConfig.MaxRowsPerCell)
            throw Conflict(nameof(Seeds), Seeds, nameof(Synthetic), $"{Param(nameof(Seeds))} × synthetic counts at most {GaussianSweepConfig.MaxRowsPerCell:N0} rows per cell",
                $"{Param(nameof(Seeds))} {Seeds} × {Synthetic.Count} synthetic counts is too many rows per cell: at most {GaussianSweepConfig.MaxRowsPerCell:N0} are supported");
        var available = Family == MixFamily.Lm ? Corpus!.Train.Count : int.MaxValue;
        if (GeneratorReal < minimumReal || GeneratorReal > available)
            throw BadValue(nameof(GeneratorReal), GeneratorReal,
                $"give {minimumReal} to {(Family == MixFamily.Lm ? $"{available:N0} (the corpus's training split)" : $"{int.MaxValue:N0}")} real records");
        foreach (var n in Real)
            if (n > GeneratorReal)
                throw Conflict(nameof(Real), n, nameof(GeneratorReal), $"at most {Param(nameof(GeneratorReal))} ({GeneratorReal:N0})",
                    $"{Param(nameof(Real))} {n} is more than the real data available: every num_real is drawn from the generator's {GeneratorReal:N0} real records " +
                    $"({Param(nameof(GeneratorReal))}{(Family == MixFamily.Lm ? $"; the corpus's training split holds {Corpus!.Train.Count:N0}" : "")})");
        if ((long)Real.Max() + Synthetic.Max() > int.MaxValue / 16)
            throw Conflict(nameof(Real), Real.Max(), nameof(Synthetic), $"{Param(nameof(Real))} + {Param(nameof(Synthetic))} at most {int.MaxValue / 16:N0} records",
                $"{Param(nameof(Real))} {Real.Max()} + {Param(nameof(Synthetic))} {Synthetic.Max()} is too many records for one fit");
        if (Generator == MixGenerator.Truth && Family != MixFamily.Gaussian)
            throw Conflict(nameof(Generator), "truth", nameof(Family), $"{Param(nameof(Generator))} fitted, or {Param(nameof(Family))} gaussian",
                $"{Param(nameof(Generator))} truth is only defined for {Param(nameof(Family))} gaussian (the other families' true distributions are not models of the family)");
        if (!double.IsFinite(GeneratorShift)) throw BadValue(nameof(GeneratorShift), GeneratorShift, $"give a finite number");
        if (GeneratorShift != 0 && Family != MixFamily.Gaussian)
            throw Conflict(nameof(GeneratorShift), GeneratorShift, nameof(Family), $"{Param(nameof(Family))} gaussian",
                $"{Param(nameof(GeneratorShift))} applies to {Param(nameof(Family))} gaussian only");
        if (Steps is not null && Family != MixFamily.Lm)
            throw Conflict(nameof(Steps), Steps, nameof(Family), $"{Param(nameof(Family))} lm", $"{Param(nameof(Steps))} applies to {Param(nameof(Family))} lm only");
        if ((Regime != LmRegime.Scratch || BaseSteps is not null) && Family != MixFamily.Lm)
            throw Conflict(nameof(Regime), Regime.Name(), nameof(Family), $"{Param(nameof(Family))} lm", $"{Param(nameof(Regime))} and {Param(nameof(BaseSteps))} apply to {Param(nameof(Family))} lm only");
        switch (Family)
        {
            case MixFamily.Gaussian:
                if (Dim is not (>= 1 and <= 1024)) throw BadValue(nameof(Dim), Dim, $"a dimension must be an integer from 1 to 1024");
                KdeSweepConfig.RefuseBadTestSize(TestSize);
                break;
            case MixFamily.Kde:
                if (Dataset is null) throw Missing(nameof(Dataset), $"give one of blobs, circles, moons, swiss-roll");
                if (Bandwidth is null) throw Missing(nameof(Bandwidth), $"give a positive number or scott/silverman");
                KdeSweepConfig.RefuseBadTestSize(TestSize);
                break;
            case MixFamily.Regression:
                if (Dim is not (>= 1 and <= RegressionSweepConfig.MaxDim)) throw BadValue(nameof(Dim), Dim, $"a dimension must be an integer from 1 to {RegressionSweepConfig.MaxDim}");
                if (NoiseVariance is not { } v || !(v >= 0) || !double.IsFinite(v)) throw BadValue(nameof(NoiseVariance), NoiseVariance, $"a noise variance σ² must be a finite number ≥ 0");
                KdeSweepConfig.RefuseBadTestSize(TestSize);
                break;
            case MixFamily.Lm:
                if (Corpus is null || Preset is null) throw new InvalidOperationException("an LM mix needs a corpus and a preset");
                // The model's own checks, as `run lm` makes them.
                LmConfig.Validate();
                break;
        }
    }

    /// <summary>LM: the same model, recipe and regime as a language-model sweep (its checks, its base).</summary>
    [JsonIgnore]
    public LmSweepConfig LmConfig => new()
    {
        Corpus = Corpus!, Presets = [Preset!], Seeds = Seeds, Iterations = 1, Steps = Steps, Regimes = [Regime], BaseSteps = BaseSteps,
    };

    /// <summary>Cells in run order: num_real as listed.</summary>
    public IEnumerable<MixCell> Cells() => Real.Select(n => new MixCell(FamilyName, n));
}

public readonly record struct MixCell(string Family, int NumReal) : ISweepCell
{
    /// <summary>The cell as its CSV lines spell it: their first two columns.</summary>
    public string Key => $"{Family},{NumReal}";
    public string SettingName => "mix";

    public override string ToString() => $"{Family} num_real={NumReal}";
}
