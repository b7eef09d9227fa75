using Collapse.Engine.Families.Lm;
using Collapse.Engine.Scenarios;

namespace Collapse.Cli.Commands;

/// <summary>Grid options several families take; each family's command adds those its grid has (the groups below likewise).</summary>
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

/// <summary>--corpus and --block-size: the language model's data (run lm; run mix, where <paramref name="scope"/> "lm" heads each description).</summary>
sealed class CorpusOptions(string? scope = null)
{
    public readonly Option<string?> Corpus = new("--corpus")
    {
        Description = Scoped(scope, "A one-document-per-line UTF-8 file instead of the embedded names.txt (vocabulary from the data; min(1,000, 10%) of its lines held out for testing)"),
    };
    public readonly Option<int?> BlockSize = new("--block-size") { Description = Scoped(scope, "Block size (default: longest document + 1); a longer document is an error naming its line") };

    public Option[] Options => [Corpus, BlockSize];

    /// <summary>The file --corpus names, else the embedded names.txt.</summary>
    public LmCorpus Load(ParseResult parse) => parse.GetValue(Corpus) is { } file ? LmCorpus.Load(file, parse.GetValue(BlockSize)) : LmCorpus.Names(parse.GetValue(BlockSize));

    static string Scoped(string? scope, string text) => scope is null ? text : $"{scope}: {char.ToLowerInvariant(text[0])}{text[1..]}";
}
