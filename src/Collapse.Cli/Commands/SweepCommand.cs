using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Engine.Results;
using Collapse.Engine.Scenarios;
using Collapse.Experiments.Runs;

namespace Collapse.Cli.Commands;

/// <summary>
/// What every <c>collapse run EXPERIMENT</c> shares: the grid options common to all families,
/// where and how to run (accelerators, shards, output) as a <see cref="SweepJob"/>, run by the
/// library's <see cref="ExperimentRuns"/> with the terminal's progress display.
/// </summary>
/// <param name="samples">Whether the family takes --samples (the language model's n comes from its corpus instead).</param>
/// <param name="chains">Whether the experiment runs model-fitting chains (--iterations, --settings); the mix study fits each model once.</param>
/// <param name="seeds">Whether --seeds has this fixed default (the mix study's default depends on its family, so it brings its own).</param>
sealed class SweepCommand(string experiment, string kernelsHelp, int defaultSeeds = 100, int defaultIterations = 100, bool samples = true,
    bool chains = true, bool seeds = true)
{
    public readonly Option<string> Samples = new("--samples") { Description = "Points per generation n, comma-separated", DefaultValueFactory = _ => "10,32,100,316,1000" };
    public readonly Option<int> Seeds = new("--seeds") { Description = "Replicates (seeds 0..S-1) per cell", DefaultValueFactory = _ => defaultSeeds };
    public readonly Option<int> Iterations = new("--iterations") { Description = "Model-fitting iterations (1 = the fit on real data)", DefaultValueFactory = _ => defaultIterations };
    public readonly Option<string> Settings = new("--settings") { Description = "Settings: replace, accumulate, accumulate-subsample", DefaultValueFactory = _ => "replace,accumulate,accumulate-subsample" };
    public readonly Option<uint> Seed = new("--seed") { Description = "Master seed of every random stream", DefaultValueFactory = _ => 0u };
    readonly Option<string> output = new("--out") { Description = "Output directory", DefaultValueFactory = _ => Path.Combine("out", experiment) };
    readonly Option<bool> force = new("--force", "--overwrite") { Description = "Start over in --out even if it holds another run (a different configuration, or a finished one)" };
    readonly Option<string> kernels = new("--kernels") { Description = kernelsHelp, DefaultValueFactory = _ => "auto" };
    readonly Option<bool> allowNonFinite = new("--allow-nonfinite") { Description = "Record NaN or infinite metrics instead of stopping at them" };
    readonly Option<bool> noFigures = new("--no-figures") { Description = "Write the CSV and manifest only" };
    readonly Option<string> accelerator = CollapseApp.AcceleratorOption();
    readonly Option<string?> shard = CollapseApp.ShardOption();
    readonly Option<string?> devices = CollapseApp.DevicesOption();

    /// <summary>A command with the family's own options first, then the shared ones.</summary>
    public Command Command(string description, params Option[] familyOptions)
    {
        var command = new Command(experiment, description);
        var shared = familyOptions.Concat<Option>(samples ? [Samples] : []).Concat(seeds ? [Seeds] : []).Concat(chains ? [Iterations, Settings] : [])
            .Concat([Seed, accelerator, devices, shard, output, force, kernels, allowNonFinite, noFigures]);
        foreach (var option in shared)
            command.Options.Add(option);
        return command;
    }

    public static IReadOnlyList<Setting> SettingList(ParseResult parse, Option<string> option) => ArgumentLists.SettingList(option.Name, parse.GetValue(option)!);

    /// <summary>The shared options as a <see cref="SweepJob"/>, run by <paramref name="execute"/> (the family's run) until done or Ctrl-C.</summary>
    public int Run(ParseResult parse, Func<SweepJob, IRunReporter, CancellationToken, RunManifest> execute)
    {
        var job = new SweepJob(experiment, parse.GetValue(output)!)
        {
            Force = parse.GetValue(force),
            Accelerator = parse.GetValue(accelerator)!,
            Devices = parse.GetValue(devices),
            Kernels = ArgumentLists.KernelPathOption(parse.GetValue(kernels)!),
            Shard = CollapseApp.ResolveShard(parse.GetValue(shard)),
            Figures = !parse.GetValue(noFigures),
            AllowNonFinite = parse.GetValue(allowNonFinite),
            Command = CollapseApp.CommandLine(),
        };
        using var cancel = CollapseApp.CancelOnCtrlC();
        execute(job, ProgressDisplay.Instance, cancel.Token);
        return 0;
    }
}
