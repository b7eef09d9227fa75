using Collapse.Engine.Families.Gaussian;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run gaussian</c>: the multivariate Gaussian setting over the paper's grid.</summary>
static class RunGaussianCommand
{
    public static Command Build()
    {
        var dims = new Option<string>("--dims") { Description = "Dimensions d, comma-separated", DefaultValueFactory = _ => "1,3,10,31,100" };
        var method = new Option<string>("--method") { Description = "data: draw the points and fit them; wishart: draw each fit from its exact distribution (replace, accumulate)", DefaultValueFactory = _ => "data" };
        var samples = GridOptions.Samples();
        var seeds = GridOptions.Seeds(100);
        var chain = new ChainOptions(defaultIterations: 100);
        var run = new RunCommand("gaussian", "auto: SIMD C# for the CPU's hot loops; ilgpu: ILGPU kernels everywhere");
        var command = run.Command("Multivariate Gaussian: MLE refitted on its own samples (paper's setting A)", [dims, method, samples, seeds, .. chain.Options]);
        command.SetAction(parse =>
        {
            var config = new GaussianSweepConfig
            {
                Dims = ArgumentLists.Integers("--dims", parse.GetValue(dims)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(chain.Iterations),
                Settings = chain.SettingList(parse),
                Method = ParseMethod(parse.GetValue(method)!),
                Seed = parse.GetValue(run.Seed),
            };
            config.Validate();
            return run.Run(parse, config, ExperimentRuns.Gaussian);
        });
        return command;
    }

    static GaussianMethod ParseMethod(string text) => text.Trim().ToLowerInvariant() switch
    {
        "data" => GaussianMethod.Data,
        "wishart" => GaussianMethod.Wishart,
        _ => throw new UsageException($"--method '{text}' is not valid: expected data or wishart"),
    };
}
