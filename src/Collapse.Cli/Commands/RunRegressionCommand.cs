using Collapse.Engine.Results;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run regression</c>: linear regression refitted on its own labels, over the authors' grid.</summary>
static class RunRegressionCommand
{
    public static Command Build()
    {
        var defaults = new RegressionSweepConfig();
        var dims = new Option<string>("--dims") { Description = "Dimensions d, comma-separated", DefaultValueFactory = _ => string.Join(',', defaults.Dims) };
        var noise = new Option<string>("--sigma-squared")
        {
            Description = "Label noise variances σ², comma-separated", DefaultValueFactory = _ => string.Join(',', defaults.NoiseVariances.Select(CsvNumber.Format)),
        };
        var testSize = new Option<int>("--test-size") { Description = "Fresh test points per seed for the test MSE", DefaultValueFactory = _ => defaults.TestSize };
        var samples = GridOptions.Samples();
        var seeds = GridOptions.Seeds(defaults.Seeds);
        var chain = new ChainOptions(defaultIterations: defaults.Iterations);
        var run = new RunCommand("regression", "auto: C# SIMD for the CPU's row loops; ilgpu: ILGPU kernels everywhere");
        var command = run.Command("Linear regression: least squares refitted on its own labels, one fixed design per seed (the authors' extra setting)",
            [dims, samples, noise, testSize, seeds, .. chain.Options]);
        command.SetAction(parse =>
        {
            var config = new RegressionSweepConfig
            {
                Dims = ArgumentLists.Integers("--dims", parse.GetValue(dims)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                NoiseVariances = ArgumentLists.Numbers("--sigma-squared", parse.GetValue(noise)!),
                TestSize = parse.GetValue(testSize),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(chain.Iterations),
                Settings = chain.SettingList(parse),
                Seed = parse.GetValue(run.Seed),
            };
            config.Validate();
            return run.Run(parse, config, ExperimentRuns.Regression);
        });
        return command;
    }
}
