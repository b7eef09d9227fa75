using System.Diagnostics;
using Collapse.Engine.Sweeps;
using Spectre.Console;

namespace Collapse.Cli.Console;

/// <summary>
/// Shows sweep progress: a live bar with rate and ETA on a terminal, plain lines (at most one
/// every few seconds, plus one per finished cell) when output is redirected.
/// </summary>
sealed class ProgressDisplay
{
    public static bool Interactive => !System.Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> with a progress sink and renders what it reports.</summary>
    public static void Run(string title, Action<IProgress<SweepProgress>> work)
    {
        if (Interactive)
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(title, maxValue: 1);
                    work(new Progress(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Done;
                        task.Description = $"{title} [grey]{p.CellsDone}/{p.CellsTotal} cells · {Markup.Escape(p.Current)}[/]";
                    }));
                    task.Value = task.MaxValue;
                });
            return;
        }
        var clock = Stopwatch.StartNew();
        var lastLine = TimeSpan.Zero;
        var lastCells = -1;
        work(new Progress(p =>
        {
            var now = clock.Elapsed;
            if (p.CellsDone == lastCells && now - lastLine < TimeSpan.FromSeconds(5)) return;
            lastCells = p.CellsDone;
            lastLine = now;
            var rate = p.Done / Math.Max(1e-9, now.TotalSeconds);
            var eta = rate > 0 ? TimeSpan.FromSeconds((p.Total - p.Done) / rate) : TimeSpan.Zero;
            System.Console.WriteLine(FormattableString.Invariant(
                $"{title}: {100.0 * p.Done / Math.Max(1, p.Total),5:F1}%  cells {p.CellsDone}/{p.CellsTotal}  {rate:F0} replicate-iterations/s  elapsed {now:hh\\:mm\\:ss}  eta {eta:hh\\:mm\\:ss}  ({p.Current})"));
        }));
    }

    /// <summary>Synchronous IProgress (System.Progress posts to the thread pool, which would reorder lines).</summary>
    sealed class Progress(Action<SweepProgress> report) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => report(value);
    }

    sealed class RateColumn : ProgressColumn
    {
        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is double speed ? $"{speed:F0} rep-it/s" : "", new Style(Color.Grey));
    }
}
