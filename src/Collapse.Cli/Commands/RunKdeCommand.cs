using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Engine.Sweeps;
using Collapse.Experiments.Runs;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run kde</c>: the kernel density estimation setting over the paper's grid.</summary>
static class RunKdeCommand
{
    public static Command Build()
    {
        var datasets = new Option<string>("--datasets") { Description = "Datasets: blobs, circles, moons, swiss-roll", DefaultValueFactory = _ => "blobs,circles,moons,swiss-roll" };
        var bandwidths = new Option<string>("--bandwidths") { Description = "Bandwidths h: positive numbers, or scott / silverman (scikit-learn's rules)", DefaultValueFactory = _ => "0.1,0.5,1.0" };
        var testSize = new Option<int>("--test-size") { Description = "Held-out real test points per seed", DefaultValueFactory = _ => 500 };
        var sweep = new SweepCommand("kde", "auto: SIMD C# for the CPU's scoring; ilgpu: ILGPU kernels everywhere");
        var command = sweep.Command("Kernel density estimation refitted on its own samples (paper's setting B)", datasets, bandwidths, testSize);
        command.SetAction(parse =>
        {
            var config = new KdeSweepConfig
            {
                Datasets = ArgumentLists.DatasetList("--datasets", parse.GetValue(datasets)!),
                Bandwidths = ArgumentLists.BandwidthList("--bandwidths", parse.GetValue(bandwidths)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(sweep.Samples)!),
                Seeds = parse.GetValue(sweep.Seeds),
                Iterations = parse.GetValue(sweep.Iterations),
                Settings = SweepCommand.SettingList(parse, sweep.Settings),
                TestSize = parse.GetValue(testSize),
                Seed = parse.GetValue(sweep.Seed),
            };
            config.Validate();
            return sweep.Run(parse, (job, reporter, cancellation) => ExperimentRuns.Kde(config, job, reporter, cancellation));
        });
        return command;
    }
}
