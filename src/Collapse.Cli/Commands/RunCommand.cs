using Collapse.Engine.Results;

namespace Collapse.Cli.Commands;

/// <summary>
/// What every <c>collapse run EXPERIMENT</c> shares: --seed and where and how to run (accelerators,
/// shards, output, kernels, figures) as a <see cref="SweepJob"/>, run by the library's
/// <see cref="ExperimentRuns"/> with the terminal's progress display. The grid options are the
/// family's own: its command declares them (those several families take from <see cref="GridOptions"/>).
/// </summary>
sealed class RunCommand(string experiment, string kernelsHelp)
{
    public readonly Option<uint> Seed = new("--seed") { Description = "Master seed of every random stream", DefaultValueFactory = _ => 0u };
    readonly Option<string> output = new("--out") { Description = "Output directory", DefaultValueFactory = _ => Path.Combine("out", experiment) };
    readonly Option<bool> force = new("--force", "--overwrite") { Description = "Start over in --out even if it holds another run (a different configuration, or a finished one)" };
    readonly Option<string> kernels = new("--kernels") { Description = kernelsHelp, DefaultValueFactory = _ => "auto" };
    readonly Option<bool> allowNonFinite = new("--allow-nonfinite") { Description = "Record NaN or infinite metrics instead of stopping at them" };
    readonly Option<bool> noFigures = new("--no-figures") { Description = "Write the CSV and manifest only" };
    readonly Option<string> accelerator = CollapseApp.AcceleratorOption();
    readonly Option<string?> shard = CollapseApp.ShardOption();
    readonly Option<string?> devices = CollapseApp.DevicesOption();

    /// <summary>The command: the family's options in the order given, then the shared ones.</summary>
    public Command Command(string description, params Option[] familyOptions)
    {
        var command = new Command(experiment, description);
        foreach (var option in familyOptions.Concat([Seed, accelerator, devices, shard, output, force, kernels, allowNonFinite, noFigures]))
            command.Options.Add(option);
        return command;
    }

    /// <summary>The shared options as a <see cref="SweepJob"/> for <paramref name="execute"/> (the family's <see cref="ExperimentRuns"/> method) to run <paramref name="config"/> until done or Ctrl-C.</summary>
    public int Run<TConfig>(ParseResult parse, TConfig config, Func<TConfig, SweepJob, IRunReporter, CancellationToken, RunManifest> execute)
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
        execute(config, job, ProgressDisplay.Instance, cancel.Token);
        return 0;
    }
}
