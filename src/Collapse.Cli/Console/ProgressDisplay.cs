using Spectre.Console;

namespace Collapse.Cli.Console;

/// <summary>
/// The CLI's <see cref="IRunReporter"/>: a live bar with rate and ETA on a terminal, the library's
/// plain lines (at most one every few seconds, plus one per finished cell) when output is redirected.
/// </summary>
sealed class ProgressDisplay : IRunReporter
{
    public static readonly ProgressDisplay Instance = new();

    public static bool Interactive => !System.Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    // Console.WriteLine looks up Console.Out on each call, so a redirected console (the tests') is honoured.
    readonly PlainReporter plain = new(System.Console.WriteLine);

    public void Line(string text) => System.Console.WriteLine(text);

    public void Sweep(string title, Action<IProgress<SweepProgress>> work)
    {
        if (!Interactive)
        {
            plain.Sweep(title, work);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(title, maxValue: 1);
                work(new SynchronousProgress<SweepProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = $"{title} [grey]{p.CellsDone}/{p.CellsTotal} cells · {Markup.Escape(p.Current)}[/]";
                }));
                task.Value = task.MaxValue;
            });
    }

    sealed class RateColumn : ProgressColumn
    {
        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is double speed ? $"{speed:F0} rep-it/s" : "", new Style(Color.Grey));
    }
}
