using System.Text.Json.Nodes;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// <c>collapse merge</c>: combines the directories of a sharded sweep (each ran <c>--shard K/N</c>
/// of the same configuration) into one CSV and manifest, in the unsharded run's cell order, so
/// the merged CSV equals the one an unsharded run writes. Refuses mismatched configurations,
/// unfinished or repeated shards, and missing cells, naming them.
/// </summary>
public static class ShardMerge
{
    /// <summary>
    /// The cell keys, in run order, of an experiment's configuration, and the rows each cell has, for
    /// manifests written before they recorded their grid (a new family needs no entry here).
    /// </summary>
    static (IReadOnlyList<string> Keys, int RowsPerCell) LegacyGrid(string experiment, JsonNode configuration, string directory) => experiment switch
    {
        "gaussian" when RunManifest.ConfigurationAs<GaussianSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Iterations),
        "kde" when RunManifest.ConfigurationAs<KdeSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Iterations),
        "lm" when LmGrid(configuration) is { } grid => grid,
        "mix" when RunManifest.ConfigurationAs<MixSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Synthetic.Count),
        _ => throw Refusal(ParameterProblem.BadValue, directory, $"a gaussian, kde, lm or mix run",
            $"'{directory}' holds a '{experiment}' run, which merge does not know: expected gaussian, kde, lm or mix"),
    };

    /// <summary>
    /// An LM configuration names its corpus rather than holding it, so its cells come from the JSON:
    /// settings, then presets (as <see cref="LmSweepConfig.Cells"/> orders them).
    /// </summary>
    static (IReadOnlyList<string> Keys, int RowsPerCell)? LmGrid(JsonNode configuration)
    {
        try
        {
            var presets = configuration["presets"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
            var settings = configuration["settings"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
            return ([.. settings.SelectMany(s => presets.Select(p => $"{p},{s}"))],
                configuration["seeds"]!.GetValue<int>() * configuration["iterations"]!.GetValue<int>());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The engine's name for the directories to merge (a list of paths, not a flag).</summary>
    public const string Directories = "directories";

    /// <summary>A refusal of the directories given: <paramref name="value"/> is the one at fault (or an item repeated).</summary>
    static InvalidParameterException Refusal(ParameterProblem problem, string? value, ParameterText valid, ParameterText text,
        ParameterText? advice = null, string? subject = null) =>
        new(problem, Directories, value, valid, $"merge: {text}", subject: subject, advice: advice);

    public static RunManifest Merge(IReadOnlyList<string> directories, string output, bool force, string command)
    {
        if (directories.Count == 0) throw Refusal(ParameterProblem.Empty, null, $"the directories of the shards to merge", $"give the directories of the shards to merge");
        var manifests = new List<RunManifest>();
        foreach (var directory in directories)
        {
            var manifest = RunManifest.TryLoad(Path.Combine(directory, SweepRun.ManifestName))
                ?? throw Refusal(ParameterProblem.BadValue, directory, $"a directory written by a run with {Param(Shard.Parameter)} K/N",
                    $"'{directory}' has no readable {SweepRun.ManifestName}", $"give directories written by runs with {Param(Shard.Parameter)} K/N");
            if (manifest.Status != "complete")
                throw Refusal(ParameterProblem.Unavailable, directory, $"a finished shard",
                    $"'{directory}' is not finished ({manifest.CellsCompleted} of {manifest.CellsTotal} cells)", $"rerun its command to finish it first");
            if (manifest.Configuration is null || manifest.Experiment.Length == 0)
                throw Refusal(ParameterProblem.BadValue, directory, $"a run that records its experiment and configuration",
                    $"'{directory}' records no experiment or configuration", $"it was written by an older collapse; rerun it");
            manifests.Add(manifest);
        }
        var first = manifests[0];
        for (var i = 1; i < manifests.Count; i++)
            if (manifests[i].Experiment != first.Experiment || !JsonNode.DeepEquals(manifests[i].Configuration, first.Configuration))
                throw Refusal(ParameterProblem.Conflict, directories[i], $"a shard of the configuration '{directories[0]}' ran",
                    $"'{directories[i]}' ran a different configuration from '{directories[0]}' ({manifests[i].Experiment} vs {first.Experiment}; compare their manifest.json)",
                    $"shards must come from the same command", subject: directories[0]);
        var shards = manifests.Select((m, i) => (Shard: m.Shard is null ? (Shard?)null : Shard.Parse(m.Shard), Directory: directories[i])).ToList();
        var counts = shards.Select(s => s.Shard?.Count ?? 1).Distinct().ToList();
        if (counts.Count > 1)
            throw Refusal(ParameterProblem.Conflict, null, $"the shards of one split",
                $"the directories split the grid differently ({string.Join(", ", manifests.Select(m => m.Shard ?? "whole grid"))})", $"give the shards of one split");
        foreach (var repeated in shards.GroupBy(s => s.Shard?.Index ?? 0).Where(g => g.Count() > 1))
            throw Refusal(ParameterProblem.Repeated, repeated.First().Shard?.ToString() ?? "whole grid", $"each shard once",
                $"shard {repeated.First().Shard?.ToString() ?? "whole grid"} is given twice ({string.Join(", ", repeated.Select(s => $"'{s.Directory}'"))})");

        // A manifest names its grid; manifests from before it did are read through their experiment's configuration.
        var (keys, rowsPerCell) = first.GridCells is { Count: > 0 } cells && first.RowsPerCell is int rows
            ? (cells, rows) : LegacyGrid(first.Experiment, first.Configuration!, directories[0]);
        var csvName = first.Experiment + ".csv";
        // Every key of an experiment spans the same leading columns (gaussian: setting,dim,n).
        var keyColumns = keys[0].Count(c => c == ',') + 1;
        var known = keys.ToHashSet();
        string? header = null;
        var lines = new Dictionary<string, List<string>>();
        for (var i = 0; i < directories.Count; i++)
        {
            var path = Path.Combine(directories[i], csvName);
            if (!File.Exists(path)) throw Refusal(ParameterProblem.Unavailable, directories[i], $"a directory holding {csvName}", $"'{directories[i]}' has no {csvName}");
            using var reader = new StreamReader(path);
            var own = reader.ReadLine() ?? "";
            if (header is not null && own != header)
                throw Refusal(ParameterProblem.Conflict, directories[i], $"the header '{header}'", $"'{path}' has header '{own}', unlike '{header}'", subject: path);
            header = own;
            var lineNumber = 1;
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                var key = KeyOf(line, keyColumns);
                if (!known.Contains(key))
                    throw Refusal(ParameterProblem.BadValue, directories[i], $"rows of the configuration's cells",
                        $"'{path}' line {lineNumber} belongs to no cell of the configuration", subject: $"{path} line {lineNumber}");
                if (!lines.TryGetValue(key, out var cell)) lines[key] = cell = [];
                else if (cell.Count == rowsPerCell)
                    throw Refusal(ParameterProblem.Repeated, key, $"each cell in one directory",
                        $"cell {key} appears in more than one directory (again in '{directories[i]}')", subject: directories[i]);
                cell.Add(line);
            }
        }
        var missing = keys.Where(k => !lines.TryGetValue(k, out var cell) || cell.Count != rowsPerCell).ToList();
        if (missing.Count > 0)
        {
            var n = counts[0];
            var absentShards = Enumerable.Range(0, n).Where(k => shards.All(s => (s.Shard?.Index ?? 0) != k)).Select(k => $"{k}/{n}").ToList();
            throw Refusal(ParameterProblem.Unavailable, null, $"every shard of the split",
                $"{missing.Count} of {keys.Count} cells are missing{(absentShards.Count > 0 ? $" (shards {string.Join(", ", absentShards)} not given)" : "")}: " +
                $"{string.Join("; ", missing.Take(8))}{(missing.Count > 8 ? $"; … {missing.Count - 8} more" : "")}");
        }

        SweepRun.PrepareDirectory(output);
        var manifestPath = Path.Combine(output, SweepRun.ManifestName);
        var existing = RunManifest.TryLoad(manifestPath);
        if (existing is not null && !force && !(existing.Shard is null && JsonNode.DeepEquals(existing.Configuration, first.Configuration)))
            throw new InvalidParameterException(ParameterProblem.Conflict, nameof(output), output, $"a directory without another run, or {Param(nameof(force))}",
                $"merge: {Param(nameof(output))} '{output}' already holds another run", other: nameof(force),
                advice: $"choose another {Param(nameof(output))}, or add {Param(nameof(force))}");
        var csvPath = Path.Combine(output, csvName);
        var temporary = csvPath + ".tmp";
        File.WriteAllLines(temporary, keys.SelectMany(k => lines[k]).Prepend(header!));
        File.Move(temporary, csvPath, overwrite: true);
        var merged = new RunManifest
        {
            Command = command,
            Experiment = first.Experiment,
            Configuration = first.Configuration!.DeepClone(),
            Status = "complete",
            Accelerator = string.Join(", ", manifests.Select(m => m.Accelerator).Distinct()),
            Device = string.Join(", ", manifests.Select(m => m.Device).Distinct()),
            KernelPath = string.Join(", ", manifests.Select(m => m.KernelPath).Distinct()),
            Machine = string.Join(" | ", manifests.Select(m => m.Machine).Distinct()),
            StartedUtc = manifests.Min(m => m.StartedUtc),
            FinishedUtc = DateTime.UtcNow,
            WallSeconds = manifests.Sum(m => m.WallSeconds),
            WallSecondsPerSetting = manifests.SelectMany(m => m.WallSecondsPerSetting).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value)),
            CellsCompleted = keys.Count,
            CellsTotal = keys.Count,
            GridCells = [.. keys],
            RowsPerCell = rowsPerCell,
            Files = [csvName],
        };
        merged.Save(manifestPath);
        return merged;
    }

    /// <summary>The first <paramref name="columns"/> columns of a CSV line.</summary>
    static string KeyOf(string line, int columns)
    {
        var end = -1;
        for (var i = 0; i < columns; i++)
        {
            end = line.IndexOf(',', end + 1);
            if (end < 0) return line;
        }
        return line[..end];
    }
}
