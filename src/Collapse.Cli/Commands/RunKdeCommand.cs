using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Cli.Figures;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Kernels.Accelerators;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run kde</c>: the kernel density estimation setting over the paper's grid.</summary>
static class RunKdeCommand
{
    /// <summary>The iterations the sample pictures show (those within the run).</summary>
    static readonly int[] PictureIterations = [1, 10, 100];

    public static Command Build()
    {
        var datasets = new Option<string>("--datasets") { Description = "Datasets: blobs, circles, moons, swiss-roll", DefaultValueFactory = _ => "blobs,circles,moons,swiss-roll" };
        var bandwidths = new Option<string>("--bandwidths") { Description = "Bandwidths h: positive numbers, or scott / silverman (scikit-learn's rules)", DefaultValueFactory = _ => "0.1,0.5,1.0" };
        var samples = new Option<string>("--samples") { Description = "Points per fit n, comma-separated", DefaultValueFactory = _ => "10,32,100,316,1000" };
        var seeds = new Option<int>("--seeds") { Description = "Replicates (seeds 0..S-1) per cell", DefaultValueFactory = _ => 100 };
        var iterations = new Option<int>("--iterations") { Description = "Model-fitting iterations (1 = the fit on real data)", DefaultValueFactory = _ => 100 };
        var settings = new Option<string>("--settings") { Description = "Settings: replace, accumulate, accumulate-subsample", DefaultValueFactory = _ => "replace,accumulate,accumulate-subsample" };
        var testSize = new Option<int>("--test-size") { Description = "Held-out real test points per seed", DefaultValueFactory = _ => 500 };
        var seed = new Option<uint>("--seed") { Description = "Master seed of every random stream", DefaultValueFactory = _ => 0u };
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => Path.Combine("out", "kde") };
        var overwrite = new Option<bool>("--force", "--overwrite") { Description = "Start over in --out even if it holds another run (a different configuration, or a finished one)" };
        var kernels = new Option<string>("--kernels") { Description = "auto: SIMD C# for the CPU's scoring; ilgpu: ILGPU kernels everywhere", DefaultValueFactory = _ => "auto" };
        var allowNonFinite = new Option<bool>("--allow-nonfinite") { Description = "Record NaN or infinite metrics instead of stopping at them" };
        var noFigures = new Option<bool>("--no-figures") { Description = "Write the CSV and manifest only" };
        var accelerator = CollapseApp.AcceleratorOption();
        var shardOption = CollapseApp.ShardOption();
        var devicesOption = CollapseApp.DevicesOption();

        var command = new Command("kde", "Kernel density estimation refitted on its own samples (paper's setting B)")
        {
            datasets, bandwidths, samples, seeds, iterations, settings, testSize, seed, accelerator, output, overwrite, kernels, allowNonFinite, noFigures, shardOption, devicesOption,
        };
        command.SetAction(parse =>
        {
            var config = new KdeSweepConfig
            {
                Datasets = ArgumentLists.DatasetList("--datasets", parse.GetValue(datasets)!),
                Bandwidths = ArgumentLists.BandwidthList("--bandwidths", parse.GetValue(bandwidths)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(iterations),
                Settings = ArgumentLists.SettingList("--settings", parse.GetValue(settings)!),
                TestSize = parse.GetValue(testSize),
                Seed = parse.GetValue(seed),
            };
            config.Validate();
            var path = ArgumentLists.KernelPathOption(parse.GetValue(kernels)!);
            var shard = CollapseApp.ResolveShard(parse.GetValue(shardOption));
            var directory = parse.GetValue(output)!;
            var devices = CollapseApp.OpenDevices(parse.GetValue(devicesOption), parse.GetValue(accelerator)!);
            using var cancel = CollapseApp.CancelOnCtrlC();
            foreach (var device in devices) System.Console.WriteLine($"accelerator: {device.Description}");
            var workers = devices.Select(d => new KdeSweep(d, config, path) { AllowNonFinite = parse.GetValue(allowNonFinite) }).ToList();
            using var release = new Disposer(workers, devices);
            var sweep = workers[0];
            RunManifest? manifest = null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ProgressDisplay.Run("kde", progress =>
                manifest = SweepRun.Execute<KdeCell>(workers, directory, parse.GetValue(overwrite), CollapseApp.CommandLine(), progress,
                    cancel.Token, System.Console.WriteLine, shard));
            var csv = Path.Combine(directory, KdeSweep.CsvFile);
            System.Console.WriteLine($"wrote {csv} ({manifest!.WallSeconds:F1} s of sweep)");
            if (sweep.ScoredPairs > 0)
                System.Console.WriteLine($"scored {sweep.ScoredPairs:N0} test × fitted point pairs in {clock.Elapsed.TotalSeconds:F1} s " +
                    $"({sweep.ScoredPairs / clock.Elapsed.TotalSeconds / 1e6:F0} M pairs/s, everything included)");
            if (shard is not null)
                System.Console.WriteLine($"shard {shard}: no figures for a slice of the grid; run 'collapse merge' over every shard, then 'collapse plot'");
            else if (!parse.GetValue(noFigures))
            {
                // The pictures follow one seed at the largest n: cheap beside the sweep, so they are redrawn each time.
                var shown = PictureIterations.Where(t => t <= config.Iterations).Append(config.Iterations).Distinct().ToList();
                var samplesPath = Path.Combine(directory, KdeSweep.SamplesFile);
                var temporary = samplesPath + ".tmp";
                File.WriteAllLines(temporary, sweep.PictureSamples(config.Samples.Max(), shown, cancel.Token).Prepend(KdeSweep.SamplesHeader));
                File.Move(temporary, samplesPath, overwrite: true);
                var figures = KdeFigures.DrawAll(KdeRow.ReadAll(csv), KdeFigures.ReadSamples(samplesPath), Path.Combine(directory, "figures"));
                System.Console.WriteLine($"wrote {figures.Count} figures to {Path.Combine(directory, "figures")}");
            }
            return 0;
        });
        return command;
    }
}
