using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Cli.Figures;
using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run gaussian</c>: the multivariate Gaussian setting over the paper's grid.</summary>
static class RunGaussianCommand
{
    public static Command Build()
    {
        var dims = new Option<string>("--dims") { Description = "Dimensions d, comma-separated", DefaultValueFactory = _ => "1,3,10,31,100" };
        var samples = new Option<string>("--samples") { Description = "Points per fit n, comma-separated", DefaultValueFactory = _ => "10,32,100,316,1000" };
        var seeds = new Option<int>("--seeds") { Description = "Replicates (seeds 0..S-1) per cell", DefaultValueFactory = _ => 100 };
        var iterations = new Option<int>("--iterations") { Description = "Model-fitting iterations (1 = the fit on real data)", DefaultValueFactory = _ => 100 };
        var settings = new Option<string>("--settings") { Description = "Settings: replace, accumulate, accumulate-subsample", DefaultValueFactory = _ => "replace,accumulate,accumulate-subsample" };
        var method = new Option<string>("--method") { Description = "data: draw the points and fit them; wishart: draw each fit from its exact distribution (replace, accumulate)", DefaultValueFactory = _ => "data" };
        var seed = new Option<uint>("--seed") { Description = "Master seed of every random stream", DefaultValueFactory = _ => 0u };
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => Path.Combine("out", "gaussian") };
        var overwrite = new Option<bool>("--force", "--overwrite") { Description = "Start over in --out even if it holds another run (a different configuration, or a finished one)" };
        var kernels = new Option<string>("--kernels") { Description = "auto: SIMD C# for the CPU's hot loops; ilgpu: ILGPU kernels everywhere", DefaultValueFactory = _ => "auto" };
        var allowNonFinite = new Option<bool>("--allow-nonfinite") { Description = "Record NaN or infinite metrics instead of stopping at them" };
        var noFigures = new Option<bool>("--no-figures") { Description = "Write the CSV and manifest only" };
        var accelerator = CollapseApp.AcceleratorOption();
        var shardOption = CollapseApp.ShardOption();
        var devicesOption = CollapseApp.DevicesOption();

        var command = new Command("gaussian", "Multivariate Gaussian: MLE refitted on its own samples (paper's setting A)")
        {
            dims, samples, seeds, iterations, settings, method, seed, accelerator, output, overwrite, kernels, allowNonFinite, noFigures, shardOption, devicesOption,
        };
        command.SetAction(parse =>
        {
            var config = new GaussianSweepConfig
            {
                Dims = ArgumentLists.Integers("--dims", parse.GetValue(dims)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(iterations),
                Settings = ArgumentLists.SettingList("--settings", parse.GetValue(settings)!),
                Method = ParseMethod(parse.GetValue(method)!),
                Seed = parse.GetValue(seed),
            };
            config.Validate();
            var path = ArgumentLists.KernelPathOption(parse.GetValue(kernels)!);
            var shard = CollapseApp.ResolveShard(parse.GetValue(shardOption));
            var directory = parse.GetValue(output)!;
            var devices = CollapseApp.OpenDevices(parse.GetValue(devicesOption), parse.GetValue(accelerator)!);
            using var cancel = CollapseApp.CancelOnCtrlC();
            foreach (var device in devices) System.Console.WriteLine($"accelerator: {device.Description}");
            RunManifest? manifest = null;
            var workers = devices.Select(d => new GaussianSweep(d, config, path) { AllowNonFinite = parse.GetValue(allowNonFinite) }).ToList();
            using var release = new Disposer(workers, devices);
            var sweep = workers[0];
            ProgressDisplay.Run("gaussian", progress =>
                manifest = SweepRun.Execute<GaussianCell>(workers, directory, parse.GetValue(overwrite), CollapseApp.CommandLine(), progress,
                    cancel.Token, System.Console.WriteLine, shard));
            var csv = Path.Combine(directory, GaussianSweep.CsvFile);
            System.Console.WriteLine($"wrote {csv} ({manifest!.WallSeconds:F1} s of sweep)");
            if (shard is not null)
                System.Console.WriteLine($"shard {shard}: no figures for a slice of the grid; run 'collapse merge' over every shard, then 'collapse plot'");
            else if (!parse.GetValue(noFigures))
            {
                var figures = GaussianFigures.DrawAll(GaussianRow.ReadAll(csv), Path.Combine(directory, "figures"));
                System.Console.WriteLine($"wrote {figures.Count} figures to {Path.Combine(directory, "figures")}");
            }
            return 0;
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
