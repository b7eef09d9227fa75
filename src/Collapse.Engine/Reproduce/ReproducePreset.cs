using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Reproduce;

/// <summary>
/// What <c>collapse reproduce</c> runs: one configuration per experiment. <c>quick</c> shows every
/// effect on a 2-core CPU in minutes; <c>paper</c> is the paper's grids (the run commands' defaults);
/// <c>test</c> is a seconds-long grid for the test suite (the same pipeline, smaller).
/// An experiment added to reproduce adds its configuration here.
/// </summary>
public sealed record ReproducePreset
{
    public required string Name { get; init; }
    /// <summary>One line for the report: what this preset is for.</summary>
    public required string Description { get; init; }
    public required GaussianSweepConfig Gaussian { get; init; }
    public required KdeSweepConfig Kde { get; init; }
    /// <summary>The bandwidth study: the KDE over a half-decade grid of h (the authors' notebooks 11–12).</summary>
    public required KdeSweepConfig KdeBandwidth { get; init; }
    /// <summary>The linear-regression setting (the authors' <c>fit_linear_regressions</c>).</summary>
    public required RegressionSweepConfig Regression { get; init; }
    public required LmSweepConfig Lm { get; init; }
    /// <summary>The value-of-synthetic-data study, one configuration per family.</summary>
    public required MixSweepConfig MixGaussian { get; init; }
    public required MixSweepConfig MixKde { get; init; }
    public required MixSweepConfig MixLm { get; init; }
    /// <summary>The mix study for linear regression (this suite's extension).</summary>
    public required MixSweepConfig MixRegression { get; init; }

    /// <summary>The presets a user picks from (the help lists these), then the hidden test preset.</summary>
    public static readonly IReadOnlyList<string> Names = ["quick", "paper"];
    public const string TestName = "test";

    /// <summary>The named preset (case-insensitive), or an <see cref="InvalidParameterException"/> listing the valid names.</summary>
    public static ReproducePreset Named(string name) => name.Trim().ToLowerInvariant() switch
    {
        "quick" => Quick(),
        "paper" => Paper(),
        TestName => Test(),
        _ => throw InvalidParameterException.BadValue("Preset", name, $"expected {string.Join(" or ", Names)}"),
    };

    /// <summary>
    /// Every figure with fewer seeds and iterations (and the tiny language model on 2,000 names):
    /// every experiment in about 4 minutes on the project's 2-core CPU (measured; see the README).
    /// </summary>
    public static ReproducePreset Quick() => new()
    {
        Name = "quick",
        Description = "every experiment at reduced size (fewer seeds, iterations and sample sizes; the tiny language model on 2,000 names), minutes on a 2-core CPU",
        Gaussian = new GaussianSweepConfig { Seeds = 50, Iterations = 100 },
        Kde = new KdeSweepConfig { Samples = [10, 100, 1000], Seeds = 20, Iterations = 50 },
        KdeBandwidth = new KdeSweepConfig
        {
            Datasets = [ToyDataset.Blobs, ToyDataset.Moons], Bandwidths = [.. HalfDecades(7), Bandwidth.Scott, Bandwidth.Silverman],
            Samples = [10, 100, 1000], Seeds = 10, Iterations = 20,
        },
        Regression = new RegressionSweepConfig { Seeds = 20, Iterations = 50 },
        // Both regimes: fine-tuning one pretrained base is the paper's protocol, from scratch the authors' other experiment.
        Lm = new LmSweepConfig { Corpus = LmCorpus.Names(), Presets = [LmModel.From(GptPreset.Tiny)], Regimes = LmRegimes.All, TrainSize = 2000, Seeds = 4, Iterations = 10 },
        MixGaussian = MixSweepConfig.Defaults(MixFamily.Gaussian),
        MixKde = MixSweepConfig.Defaults(MixFamily.Kde),
        // The tiny model over a thinner grid: num_real from scarce to every training name, one epoch per fit, fine-tuning the base (the paper's protocol).
        MixLm = MixSweepConfig.Defaults(MixFamily.Lm, LmCorpus.Names()) with { Real = [100, 1000, 10_000, 31_033], Synthetic = [0, 3162, 31_623], Regime = LmRegime.Finetune },
        MixRegression = MixSweepConfig.Defaults(MixFamily.Regression),
    };

    /// <summary>The paper's grids: what <c>collapse run gaussian|kde</c> run by default; the LM at three sizes for 10 iterations.</summary>
    public static ReproducePreset Paper() => new()
    {
        Name = "paper",
        Description = "the paper's grids: Gaussian 5 d × 5 n × 100 seeds × 100 iterations; KDE 4 datasets × 3 h × 5 n × 100 seeds × 100 iterations (and its bandwidth study over 9 half-decades of h plus scott and silverman); linear regression 5 d × 5 n × 3 σ² × 100 seeds × 100 iterations (the authors' grid); the language model at three sizes (tiny, makemore, large: ~27K, ~204K, ~1.2M parameters) on 2,000 real names per seed, from scratch and fine-tuning its pretrained base, 3 seeds × 10 iterations; the mix study's makemore fine-tuning its base",
        Gaussian = new GaussianSweepConfig(),
        Kde = new KdeSweepConfig(),
        KdeBandwidth = new KdeSweepConfig { Bandwidths = [.. HalfDecades(9), Bandwidth.Scott, Bandwidth.Silverman] },
        Regression = new RegressionSweepConfig(),
        // Three sizes as the paper compares Gemma-2 2B, 9B and 27B, both regimes, the paper's ≥ 10 iterations. 2,000 real names
        // per seed (of the 31,033) is what fits the LM part in an hour on a 2-core CPU: Accumulate's tenth fit trains on 20,000.
        Lm = new LmSweepConfig
        {
            Corpus = LmCorpus.Names(), Presets = [LmModel.From(GptPreset.Tiny), LmModel.From(GptPreset.Makemore), LmModel.From(GptPreset.Large)],
            Regimes = LmRegimes.All, TrainSize = 2000, Seeds = 3, Iterations = 10,
        },
        MixGaussian = MixSweepConfig.Defaults(MixFamily.Gaussian),
        MixKde = MixSweepConfig.Defaults(MixFamily.Kde),
        MixLm = MixSweepConfig.Defaults(MixFamily.Lm, LmCorpus.Names()) with { Preset = LmModel.From(GptPreset.Makemore), Regime = LmRegime.Finetune },
        MixRegression = MixSweepConfig.Defaults(MixFamily.Regression),
    };

    /// <summary>The first <paramref name="count"/> bandwidths of 0.01, 0.0316, 0.1, … (half-decades, three significant digits: they name files).</summary>
    static IEnumerable<Bandwidth> HalfDecades(int count) =>
        Enumerable.Range(0, count).Select(k => Bandwidth.Of(double.Parse(Math.Pow(10, -2 + k / 2.0).ToString("G3", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)));

    /// <summary>Seconds: the test suite's grid (every stage of the pipeline, tiny sizes).</summary>
    public static ReproducePreset Test() => new()
    {
        Name = TestName,
        Description = "the test suite's seconds-long grid (not for conclusions)",
        Gaussian = new GaussianSweepConfig { Dims = [1, 3], Samples = [10, 50], Seeds = 6, Iterations = 20 },
        Kde = new KdeSweepConfig
        {
            Datasets = [ToyDataset.Moons], Bandwidths = [Bandwidth.Of(0.5)], Samples = [10, 40], Seeds = 3, Iterations = 8, TestSize = 50,
        },
        KdeBandwidth = new KdeSweepConfig
        {
            Datasets = [ToyDataset.Moons], Bandwidths = [Bandwidth.Of(0.1), Bandwidth.Of(0.316), Bandwidth.Of(1)], Samples = [10], Seeds = 3, Iterations = 4, TestSize = 50,
        },
        Regression = new RegressionSweepConfig { Dims = [2, 12], Samples = [4, 20], NoiseVariances = [1.0], Seeds = 6, Iterations = 8, TestSize = 100 },
        Lm = new LmSweepConfig { Corpus = LmCorpus.Names(), Presets = [LmModel.From(GptPreset.Tiny)], Regimes = LmRegimes.All, BaseSteps = 30, TrainSize = 100, Seeds = 2, Iterations = 3 },
        MixGaussian = MixSweepConfig.Defaults(MixFamily.Gaussian) with { Dim = 2, Real = [10, 100, 1000], Synthetic = [0, 100, 1000], GeneratorReal = 1000, TestSize = 200, Seeds = 6 },
        MixKde = MixSweepConfig.Defaults(MixFamily.Kde) with { Real = [10, 1000], Synthetic = [0, 1000], GeneratorReal = 1000, TestSize = 100, Seeds = 4 },
        MixLm = MixSweepConfig.Defaults(MixFamily.Lm, LmCorpus.Names()) with { Real = [50, 200], Synthetic = [0, 100], GeneratorReal = 200, Seeds = 2, Regime = LmRegime.Finetune, BaseSteps = 30 },
        MixRegression = MixSweepConfig.Defaults(MixFamily.Regression) with { Dim = 3, Real = [8, 100], Synthetic = [0, 100, 1000], GeneratorReal = 100, TestSize = 100, Seeds = 4 },
    };
}
