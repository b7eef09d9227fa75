namespace Collapse.Cli.Commands;

/// <summary><c>collapse merge DIR... --out DIR</c>: one CSV and manifest from the shards of a sweep.</summary>
static class MergeCommand
{
    public static Command Build()
    {
        var directories = new Argument<string[]>("directories") { Description = "The shard directories (each written by 'collapse run ... --shard K/N')", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Directory for the merged CSV and manifest", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace another run already in --out" };
        var command = new Command("merge", "Merge the shards of a sweep into the CSV an unsharded run writes") { directories, output, force };
        command.SetAction(parse =>
        {
            var merged = ShardMerge.Merge(parse.GetValue(directories)!, parse.GetValue(output)!, parse.GetValue(force), CollapseApp.CommandLine());
            System.Console.WriteLine($"merged {merged.CellsTotal} cells into {Path.Combine(parse.GetValue(output)!, merged.Files[0])}");
            return 0;
        });
        return command;
    }
}
