using System.CommandLine;
using Collapse.Cli.Figures;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse plot FILE.csv</c>: redraws a run's figures from its CSV, without rerunning it.</summary>
static class PlotCommand
{
    public static Command Build()
    {
        var csv = new Argument<string>("csv") { Description = "A gaussian.csv written by 'collapse run gaussian'" };
        var output = new Option<string?>("--out") { Description = "Figure directory (default: figures/ beside the CSV)" };
        var command = new Command("plot", "Redraw the figures of a run from its tidy CSV") { csv, output };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(csv)!;
            if (!File.Exists(path)) throw new UsageException($"plot: '{path}' does not exist: give the gaussian.csv of a run");
            List<GaussianRow> rows;
            try
            {
                rows = GaussianRow.ReadAll(path);
            }
            catch (FormatException e)
            {
                throw new UsageException($"plot: '{path}' is not a gaussian.csv: {e.Message}");
            }
            var directory = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "figures");
            var figures = GaussianFigures.DrawAll(rows, directory);
            foreach (var f in figures) System.Console.WriteLine($"wrote {f}");
            return 0;
        });
        return command;
    }
}
