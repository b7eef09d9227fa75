using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Performance.Check;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse perf-check</c>: times a fixed subset of kernels against a calibration measured in
/// the same process and fails (exit 1) when any is slower than its committed baseline by more
/// than the threshold. See <see cref="PerfCheck"/> for how it stays steady on a busy machine.
/// </summary>
static class PerfCheckCommand
{
    public const int ExitSlower = 1;

    const string TieredCompilation = "DOTNET_TieredCompilation";

    /// <summary>
    /// Runs this same command again in a process that JIT-compiles every method fully optimized
    /// at its first call. With tiered compilation the same kernel's time differed by up to 45%
    /// from one process to the next here (which tier, which profile a method ended with), enough
    /// to fail a 1.5× check by chance; without it, the processes agreed within a few percent.
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

    static string Ms(double milliseconds) => milliseconds.ToString("0.00", CultureInfo.InvariantCulture);

    public static Command Build()
    {
        var baseline = new Option<string>("--baseline")
        {
            Description = "Baseline file to compare with (or to write with --update-baseline)",
            DefaultValueFactory = _ => Path.Combine("results", "benchmarks", "baseline.json"),
        };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Fail when a kernel's normalized time exceeds this multiple of its baseline",
            DefaultValueFactory = _ => 1.5,
        };
        var update = new Option<bool>("--update-baseline") { Description = "Measure and rewrite the baseline (recording machine and commit) instead of comparing" };
        var quick = new Option<bool>("--quick") { Description = $"Fewer rounds ({PerfCheckEffort.Quick}) instead of {PerfCheckEffort.Full}; for tests" };
        var slowdown = new Option<string?>("--inject-slowdown")
        {
            Description = "KERNEL[:FACTOR]: run that kernel FACTOR times (default 3) per timed run, to see the check fail",
        };
        var only = new Option<string?>("--kernels") { Description = "Comma-separated subset of the kernels to time (default: all); for tests" };
        var command = new Command("perf-check", "Check kernel speed against the committed baseline (exit 1 when a kernel got slower)")
        {
            baseline, threshold, update, quick, slowdown, only,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(baseline)!;
            var limit = parse.GetValue(threshold);
            if (!(limit > 1)) throw new UsageException($"--threshold {limit.ToString(CultureInfo.InvariantCulture)} is not valid: it must be greater than 1");
            var injected = parse.GetValue(slowdown) is string text ? InjectedSlowdown.Parse(text) : null;
            var updating = parse.GetValue(update);
            var subset = parse.GetValue(only) is string list ? PerfCheckKernels.ParseList(list) : null;
            if (injected is not null && subset is not null && !subset.Contains(injected.Kernel))
                throw new UsageException($"--inject-slowdown {injected.Kernel}: that kernel is not among --kernels");
            if (updating && injected is not null) throw new UsageException("--update-baseline with --inject-slowdown would record a slowdown as the baseline");
            PerfBaseline? previous = null;
            if (!updating)
            {
                if (!File.Exists(path)) throw new UsageException($"perf-check: no baseline at '{path}': measure one with 'collapse perf-check --update-baseline'");
                try
                {
                    previous = PerfBaseline.Load(path);
                }
                catch (FormatException e)
                {
                    throw new UsageException(e.Message);
                }
            }
            if (Environment.GetEnvironmentVariable(TieredCompilation) != "0") return RunWithoutTiering();
            var effort = parse.GetValue(quick) ? PerfCheckEffort.Quick : PerfCheckEffort.Full;
            var output = System.Console.Out;
            using var session = new PerfCheckSession(injected, subset);
            output.WriteLine($"perf-check: {session.KernelNames.Count} kernels on the CPU path, {effort}; each kernel's " +
                             $"{PerfCheckSession.ClockDescription} divided by a calibration's timed beside it");
            if (injected is not null) output.WriteLine($"injected slowdown: {injected.Kernel} runs {injected.Factor}× per timed run");
            if (updating)
            {
                var measured = session.Measure(effort);
                var written = new PerfBaseline
                {
                    Machine = RunManifest.MachineDescription, Commit = RunManifest.ToolCommit, CreatedUtc = DateTime.UtcNow,
                    Settings = effort.ToString(), CalibrationMilliseconds = Math.Round(session.CalibrationMilliseconds, 3),
                    Kernels = measured.ToDictionary(m => m.Name, m => new BaselineEntry
                    {
                        Size = m.Size, Normalized = Math.Round(m.Normalized, 4), Milliseconds = Math.Round(m.Milliseconds, 3),
                    }),
                };
                PerfCheck.ReportRecorded(measured, output);
                written.Save(path);
                output.WriteLine($"calibration: {Ms(session.CalibrationMilliseconds)} ms CPU (median)");
                output.WriteLine($"wrote baseline {path} (machine: {written.Machine}; commit {written.Commit})");
                return 0;
            }
            output.WriteLine($"baseline: {path}, measured {previous!.CreatedUtc:yyyy-MM-dd} at commit {previous.Commit} on {previous.Machine}");
            var slower = PerfCheck.Report(PerfCheck.Run(session, previous, effort, limit), limit, output);
            output.WriteLine($"calibration: {Ms(session.CalibrationMilliseconds)} ms CPU (median; baseline {Ms(previous.CalibrationMilliseconds)} ms)");
            var limitText = limit.ToString("0.0#", CultureInfo.InvariantCulture);
            if (slower.Count > 0)
            {
                output.WriteLine($"perf-check FAILED: slower than {limitText}× baseline: {string.Join(", ", slower)}");
                return ExitSlower;
            }
            output.WriteLine($"perf-check passed: every kernel within {limitText}× its baseline");
            return 0;
        });
        return command;
    }
}
