using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Results;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse theory gaussian</c> and <c>collapse theory regression</c>: the exact expectations of a
/// grid as tidy CSV, computed from the formulas (docs/DESIGN.md, sections A and E), no simulation:
/// instant at any size.
/// </summary>
static class TheoryCommand
{
    public static Command Build()
    {
        var theory = new Command("theory", "Exact expectations (no simulation) as tidy CSV, to compare with a run's curves");
        theory.Subcommands.Add(Gaussian());
        theory.Subcommands.Add(Regression());
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
            return Write(parse.GetValue(output), GaussianTheoryRow.For(grid).Select(r => r.ToCsv()).Prepend(GaussianTheoryRow.Header));
        });
        return command;
    }

    static Command Regression()
    {
        // The defaults are the regression sweep's (the authors' grid), so the curves line up with a default run.
        var defaults = new RegressionSweepConfig();
        var dims = new Option<string>("--dims") { Description = "Dimensions d, comma-separated", DefaultValueFactory = _ => string.Join(',', defaults.Dims) };
        var samples = new Option<string>("--samples") { Description = "Labelled points per generation n, comma-separated", DefaultValueFactory = _ => string.Join(',', defaults.Samples) };
        var noise = new Option<string>("--sigma-squared")
        {
            Description = "Label noise variances σ², comma-separated",
            DefaultValueFactory = _ => string.Join(',', defaults.NoiseVariances.Select(CsvNumber.Format)),
        };
        var chain = new ChainOptions(defaultIterations: defaults.Iterations);
        var output = new Option<string?>("--out") { Description = "CSV file to write (default: standard output)" };
        var command = new Command("regression",
            "E[test MSE] = E‖ŵ_t − w*‖² at iterations 1..T of each (setting, d, n, σ²): inf where it diverges, empty where no closed form is known")
        {
            dims, samples, noise, chain.Iterations, chain.Settings, output,
        };
        command.SetAction(parse =>
        {
            // The sweep's own configuration validates the grid, so a bad value reads as a run would word it.
            var grid = defaults with
            {
                Dims = ArgumentLists.Integers("--dims", parse.GetValue(dims)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(samples)!),
                NoiseVariances = ArgumentLists.Numbers("--sigma-squared", parse.GetValue(noise)!),
                Iterations = parse.GetValue(chain.Iterations),
                Settings = chain.SettingList(parse),
                Seeds = 1,
            };
            grid.Validate();
            return Write(parse.GetValue(output), RegressionTheoryRow.For(grid).Select(r => r.ToCsv()).Prepend(RegressionTheoryRow.Header));
        });
        return command;
    }

    /// <summary>The CSV lines to standard output, or to the file --out names (its folder created).</summary>
    static int Write(string? path, IEnumerable<string> lines)
    {
        if (path is null)
        {
            foreach (var line in lines) System.Console.WriteLine(line);
            return 0;
        }
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
        File.WriteAllLines(path, lines);
        System.Console.Error.WriteLine($"wrote {path}");
        return 0;
    }
}
