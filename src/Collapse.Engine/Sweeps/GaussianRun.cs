using System.Diagnostics;
using System.Text.Json.Nodes;
using Collapse.Engine.Results;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// A Gaussian sweep written to a directory: <c>gaussian.csv</c> and <c>manifest.json</c>.
/// A rerun with the same configuration resumes after the last finished cell; a directory that
/// holds a different run is refused unless overwriting is asked for.
/// </summary>
public static class GaussianRun
{
    public const string CsvName = "gaussian.csv";
    public const string ManifestName = "manifest.json";

    /// <summary>Checks that the directory can be written, before any work starts.</summary>
    public static void PrepareDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new UsageException($"--out '{directory}' is not writable ({e.Message}): choose a directory you can write to");
        }
    }

    public static RunManifest Execute(ComputeDevice device, GaussianSweepConfig config, string directory, bool overwrite,
        KernelPath path, string command, IProgress<SweepProgress>? progress, CancellationToken cancellation,
        Action<string>? log = null)
    {
        config.Validate();
        using var sweep = new GaussianSweep(device, path);
        // Every cell must fit in memory before anything is written.
        foreach (var cell in config.Cells()) sweep.BatchSize(config, cell);
        PrepareDirectory(directory);
        var manifestPath = Path.Combine(directory, ManifestName);
        var csvPath = Path.Combine(directory, CsvName);
        var configuration = RunManifest.ConfigurationNode(config);
        var previous = RunManifest.TryLoad(manifestPath);
        var sameRun = previous?.Configuration is not null && JsonNode.DeepEquals(previous.Configuration, configuration);
        var resume = sameRun && !overwrite;
        if (previous is not null && !sameRun && !overwrite)
            throw new UsageException($"--out '{directory}' already holds a run with a different configuration: choose another --out, or add --overwrite to replace it");
        if (sameRun && previous!.Status == "complete" && File.Exists(csvPath) && !overwrite)
        {
            log?.Invoke($"{csvPath} is already complete for this configuration; nothing to run (add --overwrite to run again)");
            return previous;
        }

        var manifest = new RunManifest
        {
            Command = command,
            Configuration = configuration,
            Accelerator = device.Accelerator.AcceleratorType.ToString(),
            Device = device.Accelerator.Name,
            KernelPath = sweep.UsesSimd ? "cpu-simd (sampling, moments, factorization) + ilgpu" : "ilgpu",
            CellsTotal = config.Cells().Count(),
        };
        if (resume && previous is not null)
        {
            manifest.StartedUtc = previous.StartedUtc;
            manifest.WallSecondsPerSetting = previous.WallSecondsPerSetting;
            manifest.WallSeconds = previous.WallSeconds;
        }

        using var csv = new ResumableCsv(csvPath, GaussianRow.Header, CellKey, config.Seeds * config.Iterations, resume);
        var completed = config.Cells().Where(c => csv.CompletedCells.Contains(Key(c))).ToHashSet();
        if (completed.Count > 0) log?.Invoke($"resuming: {completed.Count} of {manifest.CellsTotal} cells already in {csvPath}.partial");
        manifest.CellsCompleted = completed.Count;
        manifest.Save(manifestPath);

        var clock = Stopwatch.StartNew();
        var wallBefore = manifest.WallSeconds;
        sweep.Run(config, completed, (cell, rows, elapsed) =>
        {
            csv.AppendCell(rows.Select(r => r.ToCsv()));
            var setting = cell.Setting.Name();
            manifest.WallSecondsPerSetting[setting] = manifest.WallSecondsPerSetting.GetValueOrDefault(setting) + elapsed.TotalSeconds;
            manifest.CellsCompleted++;
            manifest.WallSeconds = wallBefore + clock.Elapsed.TotalSeconds;
            manifest.Save(manifestPath);
        }, progress, cancellation);

        csv.Complete();
        manifest.Status = "complete";
        manifest.FinishedUtc = DateTime.UtcNow;
        manifest.WallSeconds = wallBefore + clock.Elapsed.TotalSeconds;
        manifest.Files = [CsvName];
        manifest.Save(manifestPath);
        return manifest;
    }

    static string Key(GaussianCell c) => $"{c.Setting.Name()},{c.Dim},{c.N}";

    static string CellKey(string line)
    {
        var third = 0;
        for (var i = 0; i < 3; i++) third = line.IndexOf(',', third) + 1;
        return third > 0 ? line[..(third - 1)] : line;
    }
}
