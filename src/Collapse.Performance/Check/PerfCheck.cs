using System.Diagnostics;
using System.Globalization;
using Collapse.Kernels.Accelerators;
using Collapse.Performance.Workloads;

namespace Collapse.Performance.Check;

/// <summary>
/// How long perf-check measures: rounds kept, timed runs per sample (the minimum is kept), the
/// warmup (at least this many rounds and seconds, so the JIT has replaced every hot method with its
/// optimized tier before anything counts, even when a busy machine delays the background compiler),
/// and how many times a kernel over the threshold is measured again before it fails.
/// </summary>
public sealed record PerfCheckEffort(int Rounds, int Repeats, int WarmupRounds, double WarmupSeconds, int Remeasurements)
{
    public static readonly PerfCheckEffort Full = new(15, 3, 3, 1.5, 2);
    /// <summary>For tests: enough for a 3× injected slowdown to stand far outside the noise.</summary>
    public static readonly PerfCheckEffort Quick = new(5, 2, 2, 0.5, 1);

    public override string ToString() =>
        $"{Rounds} rounds × min of {Repeats} after ≥ {WarmupRounds} warmup rounds and {WarmupSeconds:0.0#} s";
}

/// <summary>An injected slowdown: the kernel runs <see cref="Factor"/> times per timed run (to prove the check fails).</summary>
public sealed record InjectedSlowdown(string Kernel, int Factor)
{
    public static InjectedSlowdown Parse(string text)
    {
        var parts = text.Split(':');
        var factor = 3;
        if (PerfCheckKernels.Find(parts[0]) is null || parts.Length > 2
            || (parts.Length == 2 && (!int.TryParse(parts[1], CultureInfo.InvariantCulture, out factor) || factor < 2)))
            throw new ArgumentException($"--inject-slowdown '{text}' is not valid: expected KERNEL[:FACTOR], FACTOR an integer ≥ 2, " +
                                        $"KERNEL one of {string.Join(", ", PerfCheckKernels.All.Select(k => k.Name))}");
        return new InjectedSlowdown(parts[0], factor);
    }
}

/// <summary>One kernel's result: median over rounds of (kernel time / calibration time beside it), its median time, and the rounds' spread.</summary>
public sealed record KernelMeasurement(string Name, string Size, double Normalized, double Milliseconds, double Spread);

/// <summary>
/// The kernels of <see cref="PerfCheckKernels"/>, set up once on the CPU and warmed, timed against
/// the <see cref="Calibration"/>. Built for a noisy shared machine:
/// <list type="bullet">
/// <item>time is the process's CPU time (<see cref="ProcessCpuClock"/>), which leaves out the time
/// our threads wait while another process holds a core;</item>
/// <item>kernels are interleaved round by round, so a busy spell touches every kernel a little
/// rather than one kernel entirely, and each sample is the minimum of a few runs;</item>
/// <item>the calibration is timed just before every sample, for about as long as the kernel runs;</item>
/// <item>the result is the median over rounds of the ratio, which ignores the rounds a burst lands in.</item>
/// </list>
/// </summary>
public sealed class PerfCheckSession : IDisposable
{
    readonly ComputeDevice device;
    readonly IReadOnlyList<CheckedKernel> kernels = PerfCheckKernels.All;

    public IReadOnlyList<string> KernelNames => [.. kernels.Select(k => k.Name)];
    readonly List<IWorkload> workloads;
    readonly Action[] runs;
    readonly Calibration calibration = new();
    readonly List<double> calibrations = [];
    int[] units = [];

    /// <param name="only">The kernels to set up and time (all of <see cref="PerfCheckKernels"/> when null).</param>
    public PerfCheckSession(InjectedSlowdown? slowdown, IReadOnlyCollection<string>? only = null)
    {
        if (only is not null) kernels = [.. kernels.Where(k => only.Contains(k.Name))];
        device = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        workloads = kernels.Select(k => k.Create(device.Accelerator)).ToList();
        runs = workloads.Select((w, i) =>
        {
            var repeat = slowdown?.Kernel == kernels[i].Name ? slowdown.Factor : 1;
            return (Action)(() => { for (var x = 0; x < repeat; x++) w.Run(); });
        }).ToArray();
    }

    public static string ClockDescription => ProcessCpuClock.Description;

    /// <summary>Median calibration time over every sample so far, in milliseconds.</summary>
    public double CalibrationMilliseconds => Median(calibrations) * 1e3;

    /// <summary>
    /// Runs everything until the warmup is done, then finds how many calibration runs last as long
    /// as each kernel: a sample much shorter than the scheduler's time slice would see a busy
    /// machine differently from one spanning several slices.
    /// </summary>
    public void WarmUp(PerfCheckEffort effort)
    {
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < effort.WarmupRounds || clock.Elapsed.TotalSeconds < effort.WarmupSeconds; round++)
            foreach (var run in runs)
            {
                calibration.Run();
                run();
            }
        var unit = MinimumSeconds(calibration.Run, 5);
        units = runs.Select(run => Math.Max(1, (int)Math.Round(MinimumSeconds(run, 2) / unit))).ToArray();
    }

    /// <summary>Measures the named kernels (all when null), interleaved, <see cref="PerfCheckEffort.Rounds"/> rounds.</summary>
    public IReadOnlyList<KernelMeasurement> Measure(PerfCheckEffort effort, IReadOnlyCollection<string>? names = null)
    {
        if (units.Length == 0) WarmUp(effort);
        var chosen = Enumerable.Range(0, kernels.Count).Where(i => names is null || names.Contains(kernels[i].Name)).ToList();
        var ratios = chosen.ToDictionary(i => i, _ => new List<double>());
        var times = chosen.ToDictionary(i => i, _ => new List<double>());
        for (var round = 0; round < effort.Rounds; round++)
        {
            for (var j = 0; j < chosen.Count; j++)
            {
                // Rotate the order each round, so no kernel always follows the same neighbour.
                var i = chosen[(j + round) % chosen.Count];
                var c = MinimumSeconds(() => { for (var u = 0; u < units[i]; u++) calibration.Run(); }, effort.Repeats) / units[i];
                var k = MinimumSeconds(runs[i], effort.Repeats);
                ratios[i].Add(k / c);
                times[i].Add(k);
                calibrations.Add(c);
            }
        }
        return chosen.Select(i => new KernelMeasurement(kernels[i].Name, kernels[i].Size, Median(ratios[i]),
            Median(times[i]) * 1e3, Spread(ratios[i]))).ToList();
    }

    static double MinimumSeconds(Action body, int repeats)
    {
        var best = double.PositiveInfinity;
        for (var r = 0; r < repeats; r++)
        {
            var start = ProcessCpuClock.Seconds();
            body();
            best = Math.Min(best, ProcessCpuClock.Seconds() - start);
        }
        return best;
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Interquartile range over the median: how noisy this kernel's rounds were.</summary>
    static double Spread(List<double> values)
    {
        var sorted = values.Order().ToList();
        return (sorted[sorted.Count * 3 / 4] - sorted[sorted.Count / 4]) / Median(values);
    }

    public void Dispose()
    {
        foreach (var w in workloads) w.Dispose();
        device.Dispose();
    }
}

/// <summary>One line of the check's table: a kernel's measurement beside its baseline.</summary>
public sealed record KernelVerdict(KernelMeasurement Measured, BaselineEntry? Baseline, IReadOnlyList<double> Ratios)
{
    /// <summary>now / baseline: the lowest over the measurements made (null without a baseline at this size).</summary>
    public double? Ratio => Ratios.Count == 0 ? null : Ratios.Min();
}

/// <summary>
/// The regression check: measure, compare with the baseline, and measure again any kernel over
/// the threshold (a real regression shows in every measurement; a burst of load on a shared
/// machine rarely in two or three).
/// </summary>
public static class PerfCheck
{
    public static IReadOnlyList<KernelVerdict> Run(PerfCheckSession session, PerfBaseline baseline, PerfCheckEffort effort, double threshold)
    {
        var verdicts = session.Measure(effort).Select(m => Judge(m, baseline, [])).ToList();
        for (var attempt = 0; attempt < effort.Remeasurements; attempt++)
        {
            var suspects = verdicts.Where(v => v.Ratio > threshold).Select(v => v.Measured.Name).ToList();
            if (suspects.Count == 0) break;
            foreach (var again in session.Measure(effort, suspects))
            {
                var index = verdicts.FindIndex(v => v.Measured.Name == again.Name);
                verdicts[index] = Judge(again, baseline, verdicts[index].Ratios);
            }
        }
        return verdicts;
    }

    static KernelVerdict Judge(KernelMeasurement measured, PerfBaseline baseline, IReadOnlyList<double> earlier) =>
        baseline.Kernels.TryGetValue(measured.Name, out var entry) && entry.Size == measured.Size
            ? new KernelVerdict(measured, entry, [.. earlier, measured.Normalized / entry.Normalized])
            : new KernelVerdict(measured, null, []);

    /// <summary>The table of ratios; returns the kernels slower than <paramref name="threshold"/> times their baseline.</summary>
    public static IReadOnlyList<string> Report(IReadOnlyList<KernelVerdict> verdicts, double threshold, TextWriter output) =>
        Table(verdicts, threshold, output, recording: false);

    /// <summary>The table of a baseline being recorded.</summary>
    public static void ReportRecorded(IReadOnlyList<KernelMeasurement> measured, TextWriter output) =>
        Table(measured.Select(m => new KernelVerdict(m, null, [])).ToList(), double.PositiveInfinity, output, recording: true);

    static IReadOnlyList<string> Table(IReadOnlyList<KernelVerdict> verdicts, double threshold, TextWriter output, bool recording)
    {
        var slower = new List<string>();
        output.WriteLine($"{"kernel",-20} {"size",-34} {"baseline",8} {"now",8} {"now/base",9} {"CPU ms",8} {"spread",6}  verdict");
        foreach (var v in verdicts)
        {
            var m = v.Measured;
            string verdict;
            if (recording) verdict = "recorded";
            else if (v.Ratio is not double ratio) verdict = "no baseline at this size (run --update-baseline)";
            else if (ratio > threshold)
            {
                verdict = $"SLOWER than {F(threshold, "0.0#")}× baseline";
                slower.Add(m.Name);
            }
            else verdict = "ok";
            if (v.Ratios.Count > 1) verdict += $" (measured {v.Ratios.Count}×: {string.Join(", ", v.Ratios.Select(r => F(r, "0.00") + "×"))})";
            output.WriteLine($"{m.Name,-20} {m.Size,-34} {(v.Baseline is null ? "-" : F(v.Baseline.Normalized, "0.000")),8} " +
                             $"{F(m.Normalized, "0.000"),8} {(v.Ratio is double r ? F(r, "0.00") + "×" : "-"),9} {F(m.Milliseconds, "0.00"),8} " +
                             $"{F(m.Spread * 100, "0") + "%",6}  {verdict}");
        }
        return slower;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
