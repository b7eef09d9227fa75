using System.CommandLine;
using System.Diagnostics;
using Collapse.Cli.Console;
using Collapse.Engine.Results;
using Collapse.Engine.Scenarios;
using Collapse.Engine.Sweeps;
using Collapse.Kernels.Accelerators;

namespace Collapse.Cli.Commands;

/// <summary>
/// What every <c>collapse run EXPERIMENT</c> shares: the grid options common to all families,
/// where and how to run (accelerators, shards, output), and the run itself — devices opened, one
/// sweep per device, progress, the manifest, then the family's figures.
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

    /// <summary>The shared options as a <see cref="SweepJob"/>, run by <paramref name="execute"/> (the family's Execute) until done or Ctrl-C.</summary>
    public int Run(ParseResult parse, Func<SweepJob, CancellationToken, RunManifest> execute)
    {
        var job = new SweepJob(experiment, parse.GetValue(output)!, parse.GetValue(force), parse.GetValue(accelerator)!)
        {
            Devices = parse.GetValue(devices),
            Kernels = ArgumentLists.KernelPathOption(parse.GetValue(kernels)!),
            Shard = CollapseApp.ResolveShard(parse.GetValue(shard)),
            Figures = !parse.GetValue(noFigures),
        };
        using var cancel = CollapseApp.CancelOnCtrlC();
        execute(job, cancel.Token);
        return 0;
    }

    /// <summary>
    /// Runs the sweep <paramref name="make"/> builds (one per accelerator), then, for a whole grid
    /// unless --no-figures, <paramref name="draw"/>(first sweep, directory, cancellation).
    /// </summary>
    public int Run<TCell, TSweep>(ParseResult parse, Func<ComputeDevice, KernelPath, TSweep> make,
        Func<TSweep, string, CancellationToken, int> draw, Action<TSweep, TimeSpan>? report = null)
        where TCell : ISweepCell where TSweep : ISweep<TCell> =>
        Run(parse, (job, cancellation) => Execute<TCell, TSweep>(job, make, draw, cancellation, report));

    /// <summary>
    /// Runs the sweep <paramref name="make"/> builds (one per accelerator) as <c>collapse run</c> does for
    /// any caller (the run commands, reproduce): devices opened, progress shown, the resumable sweep,
    /// then, for a whole grid unless <see cref="SweepJob.Figures"/> is off, <paramref name="draw"/>(first
    /// sweep, figures directory, cancellation). Returns the manifest.
    /// </summary>
    public static RunManifest Execute<TCell, TSweep>(SweepJob job, Func<ComputeDevice, KernelPath, TSweep> make,
        Func<TSweep, string, CancellationToken, int> draw, CancellationToken cancellation, Action<TSweep, TimeSpan>? report = null)
        where TCell : ISweepCell where TSweep : ISweep<TCell>
    {
        var directory = job.Directory;
        var opened = CollapseApp.OpenDevices(job.Devices, job.Accelerator);
        foreach (var device in opened) System.Console.WriteLine($"accelerator: {device.Description}");
        var workers = opened.Select(d => make(d, job.Kernels)).ToList();
        using var release = new Disposer(workers.Cast<IDisposable>(), opened);
        RunManifest? manifest = null;
        var clock = Stopwatch.StartNew();
        ProgressDisplay.Run(job.Experiment, progress =>
            manifest = SweepRun.Execute<TCell>([.. workers.Cast<ISweep<TCell>>()], directory, job.Force, CollapseApp.CommandLine(),
                progress, cancellation, System.Console.WriteLine, job.Shard));
        System.Console.WriteLine($"wrote {Path.Combine(directory, workers[0].CsvName)} ({manifest!.WallSeconds:F1} s of sweep)");
        report?.Invoke(workers[0], clock.Elapsed);
        if (job.Shard is not null)
            System.Console.WriteLine($"shard {job.Shard}: no figures for a slice of the grid; run 'collapse merge' over every shard, then 'collapse plot'");
        else if (job.Figures)
        {
            var figures = draw(workers[0], Path.Combine(directory, "figures"), cancellation);
            System.Console.WriteLine($"wrote {figures} figures to {Path.Combine(directory, "figures")}");
        }
        return manifest;
    }

    public bool AllowNonFinite(ParseResult parse) => parse.GetValue(allowNonFinite);

    /// <summary>The --out directory.</summary>
    public string OutputDirectory(ParseResult parse) => parse.GetValue(output)!;

    /// <summary>Disposes the sweeps, then the devices they ran on.</summary>
    sealed class Disposer(IEnumerable<IDisposable> sweeps, IEnumerable<IDisposable> devices) : IDisposable
    {
        public void Dispose()
        {
            foreach (var s in sweeps) s.Dispose();
            foreach (var d in devices) d.Dispose();
        }
    }
}

/// <summary>Where and how one sweep runs: what <c>collapse run</c>'s shared options say, as data.</summary>
/// <param name="Experiment">The progress display's title (the experiment's name).</param>
/// <param name="Directory">--out.</param>
/// <param name="Force">--force: start over even if the directory holds another or a finished run.</param>
/// <param name="Accelerator">--accelerator.</param>
sealed record SweepJob(string Experiment, string Directory, bool Force, string Accelerator)
{
    /// <summary>--devices (null: the one --accelerator names).</summary>
    public string? Devices { get; init; }
    public KernelPath Kernels { get; init; } = KernelPath.Auto;
    public Shard? Shard { get; init; }
    /// <summary>Draw the figures after the sweep (not --no-figures).</summary>
    public bool Figures { get; init; } = true;
}
