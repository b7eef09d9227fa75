using System.Reflection;
using Collapse.Cli.Commands;
using Collapse.Kernels.Validation;

namespace Collapse.Tests.Cli;

/// <summary>The CLI, and only the CLI, turns the engine's parameter names into flags.</summary>
public class ParameterFlagTests
{
    [Fact]
    public void An_engine_error_is_printed_with_the_flag_and_exits_2()
    {
        var error = Assert.Throws<InvalidParameterException>(() => new GaussianSweepConfig { Samples = [1] }.Validate());
        Assert.Equal("--samples 1 is not valid: a fit needs at least 2 points (n ≥ 2) for a covariance", CollapseApp.Describe(error));

        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run("run", "gaussian", "--samples", "1", "--out", directory);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: {CollapseApp.Describe(error)}", result.Error.Trim());
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void Every_parameter_the_text_names_becomes_its_flag()
    {
        var error = Assert.Throws<InvalidParameterException>(() => new GaussianSweepConfig
        {
            Method = Engine.Families.Gaussian.GaussianMethod.Wishart,
        }.Validate());
        Assert.Equal((ParameterProblem.Conflict, "Method", "Settings"), (error.Problem, error.Parameter, error.Other));
        Assert.Equal("--method wishart does not support accumulate-subsample (it draws no points to subsample): use --method data, or --settings replace,accumulate",
            CollapseApp.Describe(error));
        Assert.DoesNotContain("--", error.Message);
    }

    [Fact]
    public void Every_sweep_parameter_has_a_flag()
    {
        // What the run commands set: the configurations' settable properties and the model's (its name is --preset's value, not a parameter).
        var names = new[] { typeof(GaussianSweepConfig), typeof(KdeSweepConfig), typeof(LmSweepConfig), typeof(MixSweepConfig), typeof(RegressionSweepConfig), typeof(LmModel) }
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            .Where(p => p.SetMethod is { IsPublic: true } && p.Name != nameof(LmModel.Name))
            .Select(p => p.Name).Distinct().ToList();
        Assert.NotEmpty(names);
        Assert.All(names, name => Assert.True(CollapseApp.Flags.ContainsKey(name), $"no flag for the engine parameter {name}"));
    }
}
