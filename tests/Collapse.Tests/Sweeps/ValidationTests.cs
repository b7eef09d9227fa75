using Collapse.Engine.Families.Lm;
using Collapse.Kernels.Validation;

namespace Collapse.Tests.Sweeps;

/// <summary>
/// The engine's checks return what is wrong as data — the parameter by the engine's name, the value given,
/// what would be valid — and word it without the CLI's flags.
/// </summary>
public class ValidationTests
{
    [Fact]
    public void A_bad_sample_size_names_the_parameter_and_the_value()
    {
        var error = Assert.Throws<InvalidParameterException>(() => new GaussianSweepConfig { Samples = [10, 1] }.Validate());
        Assert.Equal((ParameterProblem.BadValue, nameof(GaussianSweepConfig.Samples), "1"), (error.Problem, error.Parameter, error.Value));
        Assert.Equal("a fit needs at least 2 points (n ≥ 2) for a covariance", error.Valid);
        Assert.Equal("samples 1 is not valid: a fit needs at least 2 points (n ≥ 2) for a covariance", error.Message);
    }

    [Fact]
    public void A_conflict_names_both_parameters()
    {
        var model = LmModel.From(Kernels.Lm.GptPreset.Tiny) with { Width = 30, Heads = 4 };
        var error = Assert.Throws<InvalidParameterException>(() => new LmSweepConfig { Corpus = LmCorpus.Names(), Presets = [model] }.Validate());
        Assert.Equal((ParameterProblem.Conflict, nameof(LmModel.Width), "30", nameof(LmModel.Heads)), (error.Problem, error.Parameter, error.Value, error.Other));
        Assert.Equal(["Width", "Heads"], error.Text.Parameters);
        Assert.StartsWith("width 30 is not divisible by heads 4 (preset tiny)", error.Message);
    }

    [Fact]
    public void A_repeated_item_is_the_value_and_an_empty_list_has_none()
    {
        var repeated = Assert.Throws<InvalidParameterException>(() => new KdeSweepConfig { Samples = [5, 8, 5] }.Validate());
        Assert.Equal((ParameterProblem.Repeated, "Samples", "5"), (repeated.Problem, repeated.Parameter, repeated.Value));
        Assert.Equal("samples lists a sample size twice", repeated.Message);

        var empty = Assert.Throws<InvalidParameterException>(() => new MixSweepConfig { Family = MixFamily.Gaussian, Synthetic = [0] }.Validate());
        Assert.Equal((ParameterProblem.Empty, "Real", null), (empty.Problem, empty.Parameter, empty.Value));
        Assert.Equal("real is empty: give at least one count of real records, e.g. real 100,1000", empty.Message);
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("a/b")]
    public void A_bad_shard_quotes_the_text_given(string text)
    {
        var error = Assert.Throws<InvalidParameterException>(() => Shard.Parse(text));
        Assert.Equal((Shard.Parameter, text), (error.Parameter, error.Value));
        Assert.Equal($"shard '{text}' is not valid: expected K/N with 0 ≤ K < N, e.g. shard 0/4 for the first of four shards", error.Message);
    }

    [Fact]
    public void A_merge_of_an_unfinished_shard_names_the_directory_and_the_remedy()
    {
        var directory = Cli.CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(directory);
        new RunManifest { Experiment = "gaussian", CellsTotal = 4, CellsCompleted = 1 }.Save(Path.Combine(directory, SweepRun.ManifestName));
        var error = Assert.Throws<InvalidParameterException>(() => ShardMerge.Merge([directory], directory + "-merged", force: false, "test"));
        Assert.Equal((ParameterProblem.Unavailable, ShardMerge.Directories, directory), (error.Problem, error.Parameter, error.Value));
        Assert.Equal("rerun its command to finish it first", error.Advice);
        Assert.Equal($"merge: '{directory}' is not finished (1 of 4 cells): rerun its command to finish it first", error.Message);
    }
}
