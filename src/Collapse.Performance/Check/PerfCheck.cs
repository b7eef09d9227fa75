using System.Globalization;

namespace Collapse.Performance.Check;

/// <summary>
/// How long perf-check measures: rounds kept, timed runs per sample (the minimum is kept), the
/// warmup (at least this many rounds and seconds, so every hot method is compiled before anything
/// counts), and how many times a workload over the threshold is measured again before it fails.
/// </summary>
public sealed record PerfCheckEffort(int Rounds, int Repeats, int WarmupRounds, double WarmupSeconds, int Remeasurements)
{
    public static readonly PerfCheckEffort Full = new(15, 3, 3, 1.5, 2);
    /// <summary>For tests: enough for a 3× injected slowdown to stand far outside the noise.</summary>
    public static readonly PerfCheckEffort Quick = new(5, 2, 2, 0.5, 1);

    public override string ToString() =>
        $"{Rounds} rounds × min of {Repeats} after ≥ {WarmupRounds} warmup rounds and {WarmupSeconds:0.0#} s";
}

/// <summary>An injected slowdown: this commit's workload runs <see cref="Factor"/> times per timed run (to prove the check fails).</summary>
public sealed record InjectedSlowdown(string Kernel, int Factor)
{
    public static InjectedSlowdown Parse(string text, IReadOnlyCollection<string> known)
    {
        var parts = text.Split(':');
        var factor = 3;
        if (!known.Contains(parts[0]) || parts.Length > 2
            || (parts.Length == 2 && (!int.TryParse(parts[1], CultureInfo.InvariantCulture, out factor) || factor < 2)))
            throw new ArgumentException($"--inject-slowdown '{text}' is not valid: expected KERNEL[:FACTOR], FACTOR an integer ≥ 2, " +
                                        $"KERNEL one of {string.Join(", ", known)}");
        return new InjectedSlowdown(parts[0], factor);
    }
}

/// <summary>
/// One workload timed on both sides: the median over rounds of (this commit's time / the
/// reference's time in the same round), both sides' median times, and the rounds' spread.
/// </summary>
public sealed record PairedMeasurement(string Name, string Size, double Ratio, double ThisMilliseconds, double ReferenceMilliseconds, double Spread);

/// <summary>How the two builds' workload lists line up: compared by name, or on one side only, or at different sizes.</summary>
public sealed record WorkloadMatch(IReadOnlyList<WorkloadName> Compared, IReadOnlyList<WorkloadName> OnlyThis,
    IReadOnlyList<WorkloadName> OnlyReference, IReadOnlyList<(WorkloadName This, WorkloadName Reference)> SizeDiffers)
{
    /// <summary>Matches by name; a workload whose size differs between the two is not compared.</summary>
    public static WorkloadMatch Of(IReadOnlyList<WorkloadName> current, IReadOnlyList<WorkloadName> reference)
    {
        var byName = reference.ToDictionary(w => w.Name);
        return new WorkloadMatch(
            [.. current.Where(w => byName.TryGetValue(w.Name, out var r) && r.Size == w.Size)],
            [.. current.Where(w => !byName.ContainsKey(w.Name))],
            [.. reference.Where(r => current.All(w => w.Name != r.Name))],
            [.. current.Where(w => byName.TryGetValue(w.Name, out var r) && r.Size != w.Size).Select(w => (w, byName[w.Name]))]);
    }
}

/// <summary>
/// This commit's workloads and the reference's, set up once in one process and timed
/// interleaved. Built for a noisy shared machine:
/// <list type="bullet">
/// <item>time is the process's CPU time (<see cref="ProcessCpuClock"/>), which leaves out the time
/// our threads wait while another process holds a core;</item>
/// <item>in every round each workload is timed on both sides back to back (which side goes first
/// alternates), each sample the minimum of a few runs, so a busy spell or a slower machine moves
/// both sides of a pair alike and the pair's ratio stays put;</item>
/// <item>the result is the median over rounds of the pairs' ratios, which ignores the rounds a burst lands in.</item>
/// </list>
/// </summary>
public sealed class SideBySideSession : IDisposable
{
    readonly IReadOnlyList<WorkloadName> compared;
    readonly Action[] current, reference;
    readonly IDisposable currentOwner, referenceOwner;

    public IReadOnlyList<WorkloadName> Compared => compared;

    public static string ClockDescription => ProcessCpuClock.Description;

    /// <param name="slowdown">Run this commit's named workload that many times per timed run.</param>
    public SideBySideSession(LoadedBuild thisBuild, LoadedBuild referenceBuild, IReadOnlyList<WorkloadName> compared, InjectedSlowdown? slowdown)
    {
        this.compared = compared;
        var names = compared.Select(w => w.Name).ToList();
        var currentRuns = new Action[names.Count];
        reference = new Action[names.Count];
        currentOwner = thisBuild.Open(names, currentRuns);
        try
        {
            referenceOwner = referenceBuild.Open(names, reference);
        }
        catch
        {
            currentOwner.Dispose();
            throw;
        }
        current = currentRuns.Select((run, i) =>
        {
            var repeat = slowdown?.Kernel == names[i] ? slowdown.Factor : 1;
            return repeat == 1 ? run : () => { for (var x = 0; x < repeat; x++) run(); };
        }).ToArray();
    }

    bool warm;

    /// <summary>Runs everything until the warmup is done.</summary>
    public void WarmUp(PerfCheckEffort effort)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var round = 0; round < effort.WarmupRounds || clock.Elapsed.TotalSeconds < effort.WarmupSeconds; round++)
            for (var i = 0; i < compared.Count; i++)
            {
                reference[i]();
                current[i]();
            }
        warm = true;
    }

    /// <summary>Measures the named workloads (all when null), interleaved, <see cref="PerfCheckEffort.Rounds"/> rounds.</summary>
    public IReadOnlyList<PairedMeasurement> Measure(PerfCheckEffort effort, IReadOnlyCollection<string>? names = null)
    {
        if (!warm) WarmUp(effort);
        var chosen = Enumerable.Range(0, compared.Count).Where(i => names is null || names.Contains(compared[i].Name)).ToList();
        var ratios = chosen.ToDictionary(i => i, _ => new List<double>());
        var thisTimes = chosen.ToDictionary(i => i, _ => new List<double>());
        var referenceTimes = chosen.ToDictionary(i => i, _ => new List<double>());
        for (var round = 0; round < effort.Rounds; round++)
        {
            for (var j = 0; j < chosen.Count; j++)
            {
                // Rotate the order each round, so no workload always follows the same neighbour,
                // and alternate which side goes first.
                var i = chosen[(j + round) % chosen.Count];
                double a, b;
                if (round % 2 == 0)
                {
                    b = MinimumSeconds(reference[i], effort.Repeats);
                    a = MinimumSeconds(current[i], effort.Repeats);
                }
                else
                {
                    a = MinimumSeconds(current[i], effort.Repeats);
                    b = MinimumSeconds(reference[i], effort.Repeats);
                }
                ratios[i].Add(a / b);
                thisTimes[i].Add(a);
                referenceTimes[i].Add(b);
            }
        }
        return chosen.Select(i => new PairedMeasurement(compared[i].Name, compared[i].Size, Median(ratios[i]),
            Median(thisTimes[i]) * 1e3, Median(referenceTimes[i]) * 1e3, Spread(ratios[i]))).ToList();
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

    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Interquartile range over the median: how noisy this workload's rounds were.</summary>
    static double Spread(List<double> values)
    {
        var sorted = values.Order().ToList();
        return (sorted[sorted.Count * 3 / 4] - sorted[sorted.Count / 4]) / Median(values);
    }

    public void Dispose()
    {
        currentOwner.Dispose();
        referenceOwner.Dispose();
    }
}

/// <summary>One line of the check's table: a workload's measurements (the first, then any remeasurements).</summary>
public sealed record PairedVerdict(IReadOnlyList<PairedMeasurement> Measurements)
{
    public PairedMeasurement Last => Measurements[^1];

    /// <summary>this / reference: the lowest over the measurements made (a real regression shows in every one).</summary>
    public double Ratio => Measurements.Min(m => m.Ratio);
}

/// <summary>
/// The regression check: measure both sides, and measure again any workload over the threshold (a
/// real regression shows in every measurement; a burst of load on a shared machine rarely in two or three).
/// </summary>
public static class PerfCheck
{
    /// <summary>
    /// Fail when this commit is slower than the reference by more than this. Measured here
    /// (<c>scripts/perf/noise.sh</c>: 15 checks with the same build on both sides, so every true
    /// ratio is 1, on a 2-core AMD EPYC quiet and beside one and two busy processes): every
    /// workload's ratio stayed within 0.97–1.15, the worst being gaussian.moments on a quiet
    /// machine, whose arrays land differently in each side. 1.3 sits above that with room, still
    /// catches a 30% regression, and a 3× slowdown stands far outside it.
    /// </summary>
    public const double DefaultThreshold = 1.3;

    public static IReadOnlyList<PairedVerdict> Run(SideBySideSession session, PerfCheckEffort effort, double threshold)
    {
        var verdicts = session.Measure(effort).Select(m => new PairedVerdict([m])).ToList();
        for (var attempt = 0; attempt < effort.Remeasurements; attempt++)
        {
            var suspects = verdicts.Where(v => v.Ratio > threshold).Select(v => v.Last.Name).ToList();
            if (suspects.Count == 0) break;
            foreach (var again in session.Measure(effort, suspects))
            {
                var index = verdicts.FindIndex(v => v.Last.Name == again.Name);
                verdicts[index] = new PairedVerdict([.. verdicts[index].Measurements, again]);
            }
        }
        return verdicts;
    }

    /// <summary>The table of ratios, and the workloads one side lacks; returns those slower than <paramref name="threshold"/>.</summary>
    public static IReadOnlyList<string> Report(IReadOnlyList<PairedVerdict> verdicts, WorkloadMatch match, double threshold, TextWriter output)
    {
        var slower = new List<string>();
        output.WriteLine($"{"workload",-20} {"size",-34} {"ref ms",8} {"this ms",8} {"this/ref",9} {"spread",6}  verdict");
        foreach (var v in verdicts)
        {
            var m = v.Last;
            string verdict;
            if (v.Ratio > threshold)
            {
                verdict = $"SLOWER than {F(threshold, "0.0#")}× the reference";
                slower.Add(m.Name);
            }
            else verdict = "ok";
            if (v.Measurements.Count > 1) verdict += $" (measured {v.Measurements.Count}×: {string.Join(", ", v.Measurements.Select(r => F(r.Ratio, "0.00") + "×"))})";
            output.WriteLine($"{m.Name,-20} {m.Size,-34} {F(m.ReferenceMilliseconds, "0.00"),8} {F(m.ThisMilliseconds, "0.00"),8} " +
                             $"{F(v.Ratio, "0.00") + "×",9} {F(m.Spread * 100, "0") + "%",6}  {verdict}");
        }
        foreach (var w in match.OnlyThis) output.WriteLine($"{w.Name,-20} {w.Size,-34} {"-",8} {"-",8} {"-",9} {"",6}  new in this commit: not compared");
        foreach (var w in match.OnlyReference) output.WriteLine($"{w.Name,-20} {w.Size,-34} {"-",8} {"-",8} {"-",9} {"",6}  only in the reference: not compared");
        foreach (var (w, r) in match.SizeDiffers) output.WriteLine($"{w.Name,-20} {w.Size,-34} {"-",8} {"-",8} {"-",9} {"",6}  size differs from the reference's ({r.Size}): not compared");
        return slower;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
