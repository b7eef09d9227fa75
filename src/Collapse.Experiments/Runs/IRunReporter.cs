using System.Diagnostics;

namespace Collapse.Experiments.Runs;

/// <summary>
/// Where a run says what it is doing: lines (devices, files written, reproduce's steps) and each
/// sweep's progress. The CLI shows a live bar on a terminal; <see cref="PlainReporter"/> writes lines anywhere.
/// </summary>
public interface IRunReporter
{
    void Line(string text);

    /// <summary>Runs <paramref name="work"/> (one sweep, <paramref name="title"/> its experiment) with a sink for its progress; returns when it does.</summary>
    void Sweep(string title, Action<IProgress<SweepProgress>> work);
}

/// <summary>
/// Lines to <paramref name="write"/>, a sweep's progress among them: at most one every few seconds, plus
/// one per finished cell (what the CLI prints when its output is redirected).
/// </summary>
public sealed class PlainReporter(Action<string> write) : IRunReporter
{
    /// <summary>Says nothing (a test, a notebook that only wants the files).</summary>
    public static readonly PlainReporter Silent = new(_ => { });

    public void Line(string text) => write(text);

    public void Sweep(string title, Action<IProgress<SweepProgress>> work)
    {
        var clock = Stopwatch.StartNew();
        var lastLine = TimeSpan.Zero;
        var lastCells = -1;
        work(new SynchronousProgress<SweepProgress>(p =>
        {
            var now = clock.Elapsed;
            if (p.CellsDone == lastCells && now - lastLine < TimeSpan.FromSeconds(5)) return;
            lastCells = p.CellsDone;
            lastLine = now;
            var rate = p.Done / Math.Max(1e-9, now.TotalSeconds);
            var eta = rate > 0 ? TimeSpan.FromSeconds((p.Total - p.Done) / rate) : TimeSpan.Zero;
            write(FormattableString.Invariant(
                $"{title}: {100.0 * p.Done / Math.Max(1, p.Total),5:F1}%  cells {p.CellsDone}/{p.CellsTotal}  {rate:F0} replicate-iterations/s  elapsed {now:hh\\:mm\\:ss}  eta {eta:hh\\:mm\\:ss}  ({p.Current})"));
        }));
    }
}

/// <summary>Reports on the caller's thread (System.Progress posts to the thread pool, which would reorder lines).</summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
