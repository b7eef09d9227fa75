namespace Collapse.Cli.Commands;

/// <summary><c>collapse run kde</c>: the kernel density estimation setting over the paper's grid.</summary>
static class RunKdeCommand
{
    public static Command Build()
    {
        var datasets = new Option<string>("--datasets") { Description = "Datasets: blobs, circles, moons, swiss-roll", DefaultValueFactory = _ => "blobs,circles,moons,swiss-roll" };
        var bandwidths = new Option<string>("--bandwidths") { Description = "Bandwidths h: positive numbers, or scott / silverman (scikit-learn's rules)", DefaultValueFactory = _ => "0.1,0.5,1.0" };
        var testSize = new Option<int>("--test-size") { Description = "Held-out real test points per seed", DefaultValueFactory = _ => 500 };
        var samples = GridOptions.Samples();
        var seeds = GridOptions.Seeds(100);
        var chain = new ChainOptions(defaultIterations: 100);
        var run = new RunCommand("kde", "auto: SIMD C# for the CPU's scoring; ilgpu: ILGPU kernels everywhere");
        var command = run.Command("Kernel density estimation refitted on its own samples (paper's setting B)",
            [datasets, bandwidths, testSize, samples, seeds, .. chain.Options]);
        command.SetAction(parse =>
        {
            var config = new KdeSweepConfig
            {
                Datasets = ArgumentLists.DatasetList("--datasets", parse.GetValue(datasets)!),
                Bandwidths = ArgumentLists.BandwidthList("--bandwidths", parse.GetValue(bandwidths)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(chain.Iterations),
                Settings = chain.SettingList(parse),
                TestSize = parse.GetValue(testSize),
                Seed = parse.GetValue(run.Seed),
            };
            config.Validate();
            return run.Run(parse, config, ExperimentRuns.Kde);
        });
        return command;
    }
}
