using System.Diagnostics;
using System.Globalization;
using Collapse.Engine.Results;
using Collapse.Performance.Check;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse perf-check</c>: times this build's workloads against a reference commit's, built
/// and loaded beside them in the same process and timed interleaved, and fails (exit 1) when one
/// is slower than the reference's by more than the threshold. See <see cref="SideBySideSession"/>.
/// </summary>
static class PerfCheckCommand
{
    public const int ExitSlower = 1;

    const string TieredCompilation = "DOTNET_TieredCompilation";

    /// <summary>
    /// Runs this same command again in a process that JIT-compiles every method fully optimized
    /// at its first call. With tiered compilation the same kernel's time differed by up to 45%
    /// from one process to the next here (which tier, which profile a method ended with); both
    /// sides of the check live in one process, but a side should not be judged by its tiering luck.
    /// </summary>
    static int RunWithoutTiering()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(PerfCheckCommand).Assembly.Location);
        foreach (var argument in Environment.GetCommandLineArgs().Skip(1)) start.ArgumentList.Add(argument);
        start.Environment[TieredCompilation] = "0";
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static Command Build()
    {
        var reference = new Option<string?>("--reference")
        {
            Description = $"Commit to compare with (hash, tag, branch, HEAD~N); default: the one {ReferenceBuild.PinFile} names. Built once into {ReferenceBuild.CacheRoot}/perf-reference",
        };
        var referenceBuild = new Option<string?>("--reference-build") { Description = "A build directory (holding Collapse.Performance.dll) to compare with instead of building a commit" };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Fail when a workload's time over the reference's (median over rounds) exceeds this",
            DefaultValueFactory = _ => PerfCheck.DefaultThreshold,
        };
        var quick = new Option<bool>("--quick") { Description = $"Fewer rounds ({PerfCheckEffort.Quick}) instead of {PerfCheckEffort.Full}; for tests" };
        var slowdown = new Option<string?>("--inject-slowdown")
        {
            Description = "KERNEL[:FACTOR]: run this build's KERNEL FACTOR times (default 3) per timed run, to see the check fail",
        };
        var only = new Option<string?>("--kernels") { Description = "Comma-separated subset of the workloads to time (default: all)" };
        var record = new Option<string?>("--record") { Description = "Also write what was measured as JSON to this file (the per-machine trend record)" };
        var legacy = new Option<bool>("--legacy-entry") { Description = "Drive both builds through the entry point of builds older than PerfCheckEntry (tests the adapter)", Hidden = true };
        var command = new Command("perf-check", "Check kernel speed against a reference commit, side by side on this machine (exit 1 when a workload got slower)")
        {
            reference, referenceBuild, threshold, quick, slowdown, only, record, legacy,
        };
        command.SetAction(parse =>
        {
            var limit = parse.GetValue(threshold);
            if (!(limit > 1)) throw new UsageException($"--threshold {F(limit, "0.###")} is not valid: it must be greater than 1");
            var revision = parse.GetValue(reference);
            var prebuilt = parse.GetValue(referenceBuild);
            if (revision is not null && prebuilt is not null) throw new UsageException("--reference and --reference-build name the reference twice: give one");
            if (prebuilt is not null && !File.Exists(Path.Combine(prebuilt, "Collapse.Performance.dll")))
                throw new UsageException($"--reference-build '{prebuilt}' is not a build of this project: it has no Collapse.Performance.dll");
            var subset = parse.GetValue(only) is string list ? PerfCheckKernels.ParseList(list) : null;
            var known = subset ?? [.. PerfCheckKernels.All.Select(k => k.Name)];
            var injected = parse.GetValue(slowdown) is string text ? InjectedSlowdown.Parse(text, [.. PerfCheckKernels.All.Select(k => k.Name)]) : null;
            if (injected is not null && !known.Contains(injected.Kernel))
                throw new UsageException($"--inject-slowdown {injected.Kernel}: that workload is not among --kernels");
            if (Environment.GetEnvironmentVariable(TieredCompilation) != "0") return RunWithoutTiering();

            var output = System.Console.Out;
            string referenceDirectory, referenceName;
            try
            {
                if (prebuilt is not null)
                {
                    referenceDirectory = prebuilt;
                    referenceName = $"the build in {Path.GetFullPath(prebuilt)}";
                }
                else
                {
                    var repository = ReferenceBuild.RepositoryRoot(Directory.GetCurrentDirectory());
                    var asked = revision ?? ReferenceBuild.PinnedRevision(repository);
                    var commit = ReferenceBuild.Resolve(repository, asked);
                    referenceName = $"commit {commit[..12]}" + (revision is null ? $" (pinned in {ReferenceBuild.PinFile})" : $" ({asked})");
                    referenceDirectory = ReferenceBuild.Ensure(repository, commit, output);
                }
            }
            catch (ReferenceBuildException e)
            {
                throw new UsageException(e.Message);
            }

            var forceLegacy = parse.GetValue(legacy);
            var thisBuild = new LoadedBuild(AppContext.BaseDirectory, forceLegacy);
            var referenceLoaded = new LoadedBuild(referenceDirectory, forceLegacy);
            var match = WorkloadMatch.Of(thisBuild.Workloads.Where(w => known.Contains(w.Name)).ToList(),
                                         referenceLoaded.Workloads.Where(w => known.Contains(w.Name)).ToList());
            var effort = parse.GetValue(quick) ? PerfCheckEffort.Quick : PerfCheckEffort.Full;
            output.WriteLine($"perf-check: this build (commit {Short(RunManifest.ToolCommit)}) against {referenceName}, side by side in one process");
            output.WriteLine($"  {match.Compared.Count} workloads on the CPU path, {effort}; {SideBySideSession.ClockDescription}; " +
                             $"fails when this/ref > {F(limit, "0.0#")}");
            if (injected is not null) output.WriteLine($"  injected slowdown: this build's {injected.Kernel} runs {injected.Factor}× per timed run");
            if (match.Compared.Count == 0)
            {
                PerfCheck.Report([], match, limit, output);
                output.WriteLine("perf-check: no workload is in both builds at the same size, so nothing was compared");
                return 0;
            }
            if (injected is not null && match.Compared.All(w => w.Name != injected.Kernel))
                throw new UsageException($"--inject-slowdown {injected.Kernel}: the reference has no such workload at this size, so it would not be compared");

            IReadOnlyList<PairedVerdict> verdicts;
            using (var session = new SideBySideSession(thisBuild, referenceLoaded, match.Compared, injected))
                verdicts = PerfCheck.Run(session, effort, limit);
            var slower = PerfCheck.Report(verdicts, match, limit, output);
            if (parse.GetValue(record) is string recordPath)
            {
                new PerfRecord
                {
                    Machine = RunManifest.MachineDescription, Commit = RunManifest.ToolCommit, ReferenceCommit = referenceName,
                    CreatedUtc = DateTime.UtcNow, Settings = effort.ToString(), Threshold = limit, LoadAverage = LoadAverage(),
                    Workloads = verdicts.ToDictionary(v => v.Last.Name, v => new RecordedWorkload
                    {
                        Size = v.Last.Size, Ratio = Math.Round(v.Ratio, 4), ThisMilliseconds = Math.Round(v.Last.ThisMilliseconds, 3),
                        ReferenceMilliseconds = Math.Round(v.Last.ReferenceMilliseconds, 3), Spread = Math.Round(v.Last.Spread, 4),
                        Measurements = v.Measurements.Count,
                    }),
                }.Save(recordPath);
                output.WriteLine($"wrote {recordPath}");
            }
            if (slower.Count > 0)
            {
                output.WriteLine($"perf-check FAILED: slower than {F(limit, "0.0#")}× the reference: {string.Join(", ", slower)}");
                return ExitSlower;
            }
            output.WriteLine($"perf-check passed: every workload within {F(limit, "0.0#")}× the reference");
            return 0;
        });
        return command;
    }

    static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;

    static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
