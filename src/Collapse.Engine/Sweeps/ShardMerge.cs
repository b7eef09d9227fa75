using System.Text.Json.Nodes;
using Collapse.Engine.Results;
using Collapse.Kernels.Accelerators;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// <c>collapse merge</c>: combines the directories of a sharded sweep (each ran <c>--shard K/N</c>
/// of the same configuration) into one CSV and manifest, in the unsharded run's cell order, so
/// the merged CSV equals the one an unsharded run writes. Refuses mismatched configurations,
/// unfinished or repeated shards, and missing cells, naming them.
/// </summary>
public static class ShardMerge
{
    /// <summary>The cell keys, in run order, of an experiment's configuration, and the rows each cell has.</summary>
    static (IReadOnlyList<string> Keys, int RowsPerCell) Grid(string experiment, JsonNode configuration, string directory) => experiment switch
    {
        "gaussian" when RunManifest.ConfigurationAs<GaussianSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Iterations),
        "kde" when RunManifest.ConfigurationAs<KdeSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Iterations),
        "lm" when LmGrid(configuration) is { } grid => grid,
        "mix" when RunManifest.ConfigurationAs<MixSweepConfig>(configuration) is { } c => ([.. c.Cells().Select(x => x.Key)], c.Seeds * c.Synthetic.Count),
        _ => throw new UsageException($"merge: '{directory}' holds a '{experiment}' run, which merge does not know: expected gaussian, kde, lm or mix"),
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

    public static RunManifest Merge(IReadOnlyList<string> directories, string output, bool force, string command)
    {
        if (directories.Count == 0) throw new UsageException("merge: give the directories of the shards to merge, e.g. collapse merge out/shard-0 out/shard-1 --out out/merged");
        var manifests = new List<RunManifest>();
        foreach (var directory in directories)
        {
            var manifest = RunManifest.TryLoad(Path.Combine(directory, SweepRun.ManifestName))
                ?? throw new UsageException($"merge: '{directory}' has no readable {SweepRun.ManifestName}: give directories written by 'collapse run ... --shard K/N'");
            if (manifest.Status != "complete")
                throw new UsageException($"merge: '{directory}' is not finished ({manifest.CellsCompleted} of {manifest.CellsTotal} cells): rerun its command to finish it first");
            if (manifest.Configuration is null || manifest.Experiment.Length == 0)
                throw new UsageException($"merge: '{directory}' records no experiment or configuration: it was written by an older collapse; rerun it");
            manifests.Add(manifest);
        }
        var first = manifests[0];
        for (var i = 1; i < manifests.Count; i++)
            if (manifests[i].Experiment != first.Experiment || !JsonNode.DeepEquals(manifests[i].Configuration, first.Configuration))
                throw new UsageException($"merge: '{directories[i]}' ran a different configuration from '{directories[0]}' " +
                    $"({manifests[i].Experiment} vs {first.Experiment}; compare their manifest.json): shards must come from the same command");
        var shards = manifests.Select((m, i) => (Shard: m.Shard is null ? (Shard?)null : Shard.Parse(m.Shard), Directory: directories[i])).ToList();
        var counts = shards.Select(s => s.Shard?.Count ?? 1).Distinct().ToList();
        if (counts.Count > 1) throw new UsageException($"merge: the directories split the grid differently ({string.Join(", ", manifests.Select(m => m.Shard ?? "whole grid"))}): give the shards of one split");
        foreach (var repeated in shards.GroupBy(s => s.Shard?.Index ?? 0).Where(g => g.Count() > 1))
            throw new UsageException($"merge: shard {repeated.First().Shard?.ToString() ?? "whole grid"} is given twice ({string.Join(", ", repeated.Select(s => $"'{s.Directory}'"))})");

        var (keys, rowsPerCell) = Grid(first.Experiment, first.Configuration!, directories[0]);
        var csvName = first.Experiment + ".csv";
        // Every key of an experiment spans the same leading columns (gaussian: setting,dim,n).
        var keyColumns = keys[0].Count(c => c == ',') + 1;
        var known = keys.ToHashSet();
        string? header = null;
        var lines = new Dictionary<string, List<string>>();
        for (var i = 0; i < directories.Count; i++)
        {
            var path = Path.Combine(directories[i], csvName);
            if (!File.Exists(path)) throw new UsageException($"merge: '{directories[i]}' has no {csvName}");
            using var reader = new StreamReader(path);
            var own = reader.ReadLine() ?? "";
            if (header is not null && own != header) throw new UsageException($"merge: '{path}' has header '{own}', unlike '{header}'");
            header = own;
            var lineNumber = 1;
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                var key = KeyOf(line, keyColumns);
                if (!known.Contains(key)) throw new UsageException($"merge: '{path}' line {lineNumber} belongs to no cell of the configuration");
                if (!lines.TryGetValue(key, out var cell)) lines[key] = cell = [];
                else if (cell.Count == rowsPerCell) throw new UsageException($"merge: cell {key} appears in more than one directory (again in '{directories[i]}')");
                cell.Add(line);
            }
        }
        var missing = keys.Where(k => !lines.TryGetValue(k, out var cell) || cell.Count != rowsPerCell).ToList();
        if (missing.Count > 0)
        {
            var n = counts[0];
            var absentShards = Enumerable.Range(0, n).Where(k => shards.All(s => (s.Shard?.Index ?? 0) != k)).Select(k => $"{k}/{n}").ToList();
            throw new UsageException($"merge: {missing.Count} of {keys.Count} cells are missing" +
                (absentShards.Count > 0 ? $" (shards {string.Join(", ", absentShards)} not given)" : "") +
                $": {string.Join("; ", missing.Take(8))}{(missing.Count > 8 ? $"; … {missing.Count - 8} more" : "")}");
        }

        SweepRun.PrepareDirectory(output);
        var manifestPath = Path.Combine(output, SweepRun.ManifestName);
        var existing = RunManifest.TryLoad(manifestPath);
        if (existing is not null && !force && !(existing.Shard is null && JsonNode.DeepEquals(existing.Configuration, first.Configuration)))
            throw new UsageException($"merge: --out '{output}' already holds another run: choose another --out, or add --force");
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
