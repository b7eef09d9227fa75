using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Validation;

namespace Collapse.Cli.Commands;

/// <summary>The <c>collapse</c> command: parsing, dispatch, and the mapping of errors to exit codes.</summary>
public static class CollapseApp
{
    public const int ExitUsage = 2;
    public const int ExitNonFinite = 3;
    public const int ExitInterrupted = 130;

    public static RootCommand Build()
    {
        var root = new RootCommand("collapse: model-collapse experiments (Kazdan et al. 2024) on hand-written ILGPU kernels");
        root.Subcommands.Add(DevicesCommand.Build());
        var run = new Command("run", "Run one experiment's sweep and write its tidy CSV, manifest and figures");
        run.Subcommands.Add(RunGaussianCommand.Build());
        run.Subcommands.Add(RunRegressionCommand.Build());
        run.Subcommands.Add(RunKdeCommand.Build());
        run.Subcommands.Add(RunLmCommand.Build());
        run.Subcommands.Add(RunMixCommand.Build());
        root.Subcommands.Add(run);
        root.Subcommands.Add(ReproduceCommand.Build());
        root.Subcommands.Add(TheoryCommand.Build());
        root.Subcommands.Add(PlotCommand.Build());
        root.Subcommands.Add(MergeCommand.Build());
        root.Subcommands.Add(PerfCheckCommand.Build());
        return root;
    }

    public static int Run(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) System.Console.Error.WriteLine($"error: {error.Message} (see 'collapse COMMAND --help')");
            return ExitUsage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Usage(e) is string message)
        {
            System.Console.Error.WriteLine($"error: {message}");
            return ExitUsage;
        }
        catch (NonFiniteResultException e)
        {
            System.Console.Error.WriteLine($"error: {e.Message}; rerun with --allow-nonfinite to record such values instead");
            return ExitNonFinite;
        }
        catch (OperationCanceledException)
        {
            System.Console.Error.WriteLine("interrupted: finished cells are kept; rerun the same command to resume");
            return ExitInterrupted;
        }
    }

    /// <summary>The one-line message for errors that are the user's input, not the program's fault.</summary>
    static string? Usage(Exception e) => e switch
    {
        InvalidParameterException invalid => Describe(invalid),
        UsageException => e.Message,
        // Collapse.Performance's option errors, worded with flags already.
        ArgumentException when e.Message.StartsWith("--", StringComparison.Ordinal) => e.Message,
        _ => null,
    };

    /// <summary>
    /// The flag of each engine parameter, by the name <see cref="InvalidParameterException.Parameter"/> and
    /// <see cref="ParameterText"/> give it (a configuration's property or a method's parameter, any case).
    /// The engine and the kernels name parameters, never flags: this is where they become flags.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // The sweeps' grids (GaussianSweepConfig, KdeSweepConfig, LmSweepConfig and its LmModel, MixSweepConfig, RegressionSweepConfig).
        ["Dims"] = "--dims", ["Samples"] = "--samples", ["Seeds"] = "--seeds", ["Iterations"] = "--iterations", ["Settings"] = "--settings",
        ["Method"] = "--method", ["Seed"] = "--seed", ["Datasets"] = "--datasets", ["Bandwidths"] = "--bandwidths", ["TestSize"] = "--test-size",
        ["Presets"] = "--preset", ["Preset"] = "--preset", ["Layers"] = "--layers", ["Width"] = "--width", ["Heads"] = "--heads",
        ["Batch"] = "--batch", ["LearningRate"] = "--lr", ["TrainSize"] = "--train-size", ["Steps"] = "--steps",
        ["Regimes"] = "--regime", ["Regime"] = "--regime", ["BaseSteps"] = "--base-steps", ["FinetuneLearningRate"] = "--finetune-lr", ["FinetuneWarmupSteps"] = "--finetune-warmup",
        ["Corpus"] = "--corpus", ["BlockSize"] = "--block-size", ["Family"] = "--family", ["Real"] = "--real", ["Synthetic"] = "--synthetic",
        ["GeneratorReal"] = "--generator-real", ["Generator"] = "--generator", ["GeneratorShift"] = "--generator-shift",
        ["Dim"] = "--dim", ["Dataset"] = "--dataset", ["Bandwidth"] = "--bandwidth", ["NoiseVariances"] = "--sigma-squared", ["NoiseVariance"] = "--sigma-squared",
        // Where and how a run goes (SweepRun, ShardMerge, Shard, AcceleratorSpec).
        ["Directory"] = "--out", ["Output"] = "--out", ["Overwrite"] = "--force", ["Force"] = "--force",
        [Shard.Parameter] = "--shard", [AcceleratorSpec.Parameter] = "--accelerator",
        // The library's runs (SweepJob, Reproduction).
        ["Devices"] = "--devices", ["Only"] = "--only",
    };

    /// <summary>The flag of an engine parameter; one without a flag (merge's positional directories) in the engine's words.</summary>
    public static string Flag(string parameter) => Flags.TryGetValue(parameter, out var flag) ? flag : ParameterText.Words(parameter);

    /// <summary>An engine or kernels error as the CLI words it: the engine's sentence with flags (by <paramref name="flag"/>, else <see cref="Flag"/>).</summary>
    public static string Describe(InvalidParameterException e, Func<string, string>? flag = null)
    {
        flag ??= Flag;
        // An absent accelerator: the CLI can point at the command that lists what is there.
        if (e is AcceleratorUnavailableException { AdviceText: { } advice })
            return $"{e.Text.Render(flag)}; run 'collapse devices' to see what is available, or {advice.Render(flag)}";
        return e.Describe(flag);
    }

    /// <summary>The --accelerator option every command that computes takes.</summary>
    public static Option<string> AcceleratorOption() => new("--accelerator")
    {
        Description = $"Accelerator: {AcceleratorSpec.ValidForms}. auto prefers CUDA, then a capable OpenCL device, then the CPU",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>The --devices option every sweep takes.</summary>
    public static Option<string?> DevicesOption() => new("--devices")
    {
        Description = "Spread the cells over several accelerators: all (every usable one), or a list such as cuda:0,cuda:1,cpu. Overrides --accelerator",
    };

    /// <summary>The --shard option every sweep takes.</summary>
    public static Option<string?> ShardOption() => new("--shard")
    {
        Description = "Run only slice K of N of the grid (0 ≤ K < N); inside a Slurm job array the task's slice is the default. Merge the slices with 'collapse merge'",
    };

    /// <summary>--shard if given, else the Slurm array task's slice, else the whole grid.</summary>
    public static Shard? ResolveShard(string? text) =>
        text is not null ? Shard.Parse(text) : Shard.FromSlurm(Environment.GetEnvironmentVariable);

    /// <summary>The command line as typed, for the manifest.</summary>
    public static string CommandLine() => "collapse " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    /// <summary>Cancels the token on Ctrl-C (the sweep stops between iterations and keeps finished cells).</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var source = new CancellationTokenSource();
        System.Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            source.Cancel();
        };
        return source;
    }
}
