using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Engine.Scenarios;

namespace Collapse.Cli.Commands;

/// <summary>Grid options several families take; each family's command adds those its grid has.</summary>
static class GridOptions
{
    /// <summary>--samples: points per generation (the language model's n comes from its corpus instead).</summary>
    public static Option<string> Samples() => new("--samples") { Description = "Points per generation n, comma-separated", DefaultValueFactory = _ => "10,32,100,316,1000" };

    /// <summary>--seeds with the family's default (the mix study's default depends on --family, so it declares its own).</summary>
    public static Option<int> Seeds(int defaultSeeds) => new("--seeds") { Description = "Replicates (seeds 0..S-1) per cell", DefaultValueFactory = _ => defaultSeeds };
}

/// <summary>--iterations and --settings: a family that runs model-fitting chains (the mix study fits each model once).</summary>
sealed class ChainOptions(int defaultIterations)
{
    public readonly Option<int> Iterations = new("--iterations") { Description = "Model-fitting iterations (1 = the fit on real data)", DefaultValueFactory = _ => defaultIterations };
    public readonly Option<string> Settings = new("--settings") { Description = "Settings: replace, accumulate, accumulate-subsample", DefaultValueFactory = _ => "replace,accumulate,accumulate-subsample" };

    public Option[] Options => [Iterations, Settings];

    public IReadOnlyList<Setting> SettingList(ParseResult parse) => ArgumentLists.SettingList(Settings.Name, parse.GetValue(Settings)!);
}
