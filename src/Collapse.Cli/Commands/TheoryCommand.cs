using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Results;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse theory gaussian</c>: the exact expectations of a Gaussian grid as tidy CSV, computed
/// from the formulas (docs/DESIGN.md, section A), no simulation: instant at any size.
/// </summary>
static class TheoryCommand
{
    public static Command Build()
    {
        var theory = new Command("theory", "Exact expectations (no simulation) as tidy CSV, to compare with a run's curves");
        theory.Subcommands.Add(Gaussian());
        return theory;
    }

    static Command Gaussian()
    {
        var dims = new Option<string>("--dims") { Description = "Dimensions d, comma-separated", DefaultValueFactory = _ => "1,3,10,31,100" };
        var samples = GridOptions.Samples();
        var chain = new ChainOptions(defaultIterations: 100);
        var output = new Option<string?>("--out") { Description = "CSV file to write (default: standard output)" };
        var command = new Command("gaussian",
            "E[trace ratio] and E‖μ_t‖² for every setting, E[log det ratio] for Replace, at iterations 1..T of each (setting, d, n)")
        {
            dims, samples, chain.Iterations, chain.Settings, output,
        };
        command.SetAction(parse =>
        {
            // The sweep's own configuration validates the grid, so a bad value reads as it would for run gaussian.
            var grid = new GaussianSweepConfig
            {
                Dims = ArgumentLists.Integers("--dims", parse.GetValue(dims)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                Iterations = parse.GetValue(chain.Iterations),
                Settings = chain.SettingList(parse),
                Seeds = 1,
                Method = GaussianMethod.Data,
            };
            grid.Validate();
            var lines = GaussianTheoryRow.For(grid).Select(r => r.ToCsv()).Prepend(GaussianTheoryRow.Header);
            if (parse.GetValue(output) is not { } path)
            {
                foreach (var line in lines) System.Console.WriteLine(line);
                return 0;
            }
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
            File.WriteAllLines(path, lines);
            System.Console.Error.WriteLine($"wrote {path}");
            return 0;
        });
        return command;
    }
}
