using Collapse.Experiments.Figures;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse plot FILE.csv</c>: redraws a run's figures from its CSV, without rerunning it.</summary>
static class PlotCommand
{
    public static Command Build()
    {
        var csv = new Argument<string>("csv") { Description = "A gaussian.csv, kde.csv, lm.csv, mix.csv or regression.csv written by 'collapse run' or 'collapse merge'" };
        var output = new Option<string?>("--out") { Description = "Figure directory (default: figures/ beside the CSV; a mix.csv's summary.md is always written beside it)" };
        var command = new Command("plot", "Redraw the figures of a run from its tidy CSV") { csv, output };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(csv)!;
            if (!File.Exists(path)) throw new UsageException($"plot: '{path}' does not exist: give the gaussian.csv, kde.csv, lm.csv, mix.csv or regression.csv of a run");
            var directory = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "figures");
            (IReadOnlyList<string> Figures, string? Summary) drawn;
            try
            {
                drawn = RunFigures.Draw(path, directory);
            }
            catch (FormatException e)
            {
                throw new UsageException($"plot: '{path}' is not a gaussian.csv, kde.csv, lm.csv, mix.csv or regression.csv: {e.Message}");
            }
            foreach (var f in drawn.Figures.Append(drawn.Summary).OfType<string>()) System.Console.WriteLine($"wrote {f}");
            return 0;
        });
        return command;
    }
}
