using System.Diagnostics;
using System.Text.Json.Nodes;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// A sweep written to a directory: its tidy CSV and <c>manifest.json</c>. A rerun with the same
/// configuration resumes after the last finished cell; a directory that holds a different run is
/// refused unless overwriting is asked for.
/// </summary>
public static class SweepRun
{
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
            throw new InvalidParameterException(ParameterProblem.Unavailable, nameof(directory), directory, $"a directory you can write to",
                $"{Param(nameof(directory))} '{directory}' is not writable ({e.Message})", advice: $"choose a directory you can write to");
        }
    }

    public static RunManifest Execute<TCell>(ComputeDevice device, ISweep<TCell> sweep, string directory, bool overwrite,
        string command, IProgress<SweepProgress>? progress, CancellationToken cancellation, Action<string>? log = null,
        Shard? shard = null)
        where TCell : ISweepCell =>
        Execute([sweep], directory, overwrite, command, progress, cancellation, log, shard);

    /// <param name="workers">One sweep per accelerator, all of the same configuration: each takes the next cell not yet run.</param>
    /// <param name="shard">Run only this slice of the grid's cells (null: all of them).</param>
    public static RunManifest Execute<TCell>(IReadOnlyList<ISweep<TCell>> workers, string directory, bool overwrite,
        string command, IProgress<SweepProgress>? progress, CancellationToken cancellation, Action<string>? log = null,
        Shard? shard = null)
        where TCell : ISweepCell
    {
        var sweep = workers[0];
        var cells = sweep.Cells.Where((_, i) => shard?.Contains(i) ?? true).ToList();
        // Every cell must fit before anything is written.
        foreach (var cell in cells) sweep.CheckFits(cell);
        PrepareDirectory(directory);
        var manifestPath = Path.Combine(directory, ManifestName);
        var csvPath = Path.Combine(directory, sweep.CsvName);
        var configuration = RunManifest.ConfigurationNode(sweep.Configuration);
        var previous = RunManifest.TryLoad(manifestPath);
        var sameRun = previous?.Configuration is not null && JsonNode.DeepEquals(previous.Configuration, configuration)
            && previous.Shard == shard?.ToString();
        var resume = sameRun && !overwrite;
        if (previous is not null && !sameRun && !overwrite)
            throw new InvalidParameterException(ParameterProblem.Conflict, nameof(directory), directory,
                $"a directory without another run, or {Param(nameof(overwrite))} to start over",
                $"{Param(nameof(directory))} '{directory}' already holds a run with a different configuration ({Differences(previous, configuration, shard)})",
                other: nameof(overwrite), advice: $"choose another {Param(nameof(directory))}, or add {Param(nameof(overwrite))} to start over there");
        if (sameRun && previous!.Status == "complete" && File.Exists(csvPath) && !overwrite)
        {
            log?.Invoke($"{csvPath} is already complete for this configuration; nothing to run (force a start over to run it again)");
            return previous;
        }

        var manifest = new RunManifest
        {
            Command = command,
            Configuration = configuration,
            Accelerator = string.Join(", ", workers.Select(w => w.Device.Accelerator.AcceleratorType.ToString()).Distinct()),
            Device = string.Join(", ", workers.Select(w => w.Device.Accelerator.Name)),
            Experiment = sweep.Experiment,
            Shard = shard?.ToString(),
            KernelPath = sweep.KernelDescription,
            CellsTotal = cells.Count,
            GridCells = [.. sweep.Cells.Select(c => c.Key)],
            RowsPerCell = sweep.RowsPerCell,
        };
        using var csv = new ResumableCsv(csvPath, sweep.Header, resume, cells.Select(c => c.Key).ToHashSet());
        var completed = cells.Where(c => csv.CompletedCells.Contains(c.Key)).ToHashSet();
        if (completed.Count > 0 && previous is not null)
        {
            // The manifest describes exactly the rows the CSV holds: the record goes on from the earlier
            // run only for the cells that survive, and a run that keeps none starts its record over
            // (a manifest left without its CSV, as the committed results are, once kept the old start
            // and added the new time to the old).
            log?.Invoke($"resuming: {completed.Count} of {manifest.CellsTotal} cells already in {csvPath}.partial");
            manifest.StartedUtc = previous.StartedUtc;
            if (previous.CellSeconds.Count > 0)
            {
                foreach (var cell in completed)
                    if (previous.CellSeconds.TryGetValue(cell.Key, out var seconds))
                    {
                        manifest.CellSeconds[cell.Key] = seconds;
                        var setting = cell.SettingName;
                        manifest.WallSecondsPerSetting[setting] = manifest.WallSecondsPerSetting.GetValueOrDefault(setting) + seconds;
                    }
                manifest.WallSeconds = manifest.CellSeconds.Values.Sum();
            }
            else
            {
                // A manifest from before per-cell times: its totals are all there is.
                manifest.WallSecondsPerSetting = previous.WallSecondsPerSetting;
                manifest.WallSeconds = previous.WallSeconds;
            }
        }
        manifest.CellsCompleted = completed.Count;
        manifest.Save(manifestPath);

        var clock = Stopwatch.StartNew();
        var wallBefore = manifest.WallSeconds;
        var total = (long)sweep.RowsPerCell * cells.Count;
        var done = (long)sweep.RowsPerCell * completed.Count;
        var cellsDone = completed.Count;
        var pending = new Queue<TCell>(cells.Where(c => !completed.Contains(c)));
        var gate = new object();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        void Work(ISweep<TCell> worker)
        {
            while (true)
            {
                TCell cell;
                lock (gate)
                    if (!pending.TryDequeue(out cell!)) return;
                stop.Token.ThrowIfCancellationRequested();
                var cellClock = Stopwatch.StartNew();
                var lines = worker.RunCell(cell, count =>
                {
                    lock (gate)
                    {
                        done += count;
                        progress?.Report(new SweepProgress(done, total, cellsDone, cells.Count, cell.ToString()!));
                    }
                }, stop.Token);
                if (lines.Count != sweep.RowsPerCell)
                    throw new InvalidOperationException($"cell {cell} gave {lines.Count} rows, expected {sweep.RowsPerCell}");
                lock (gate)
                {
                    csv.AppendCell(cell.Key, lines);
                    cellsDone++;
                    var setting = cell.SettingName;
                    // One reading of the clock for both: two readings drift apart whenever the thread is descheduled between them.
                    var seconds = Math.Round(cellClock.Elapsed.TotalSeconds, 6);
                    manifest.WallSecondsPerSetting[setting] = manifest.WallSecondsPerSetting.GetValueOrDefault(setting) + seconds;
                    manifest.CellSeconds[cell.Key] = seconds;
                    manifest.CellsCompleted++;
                    manifest.WallSeconds = wallBefore + clock.Elapsed.TotalSeconds;
                    manifest.Save(manifestPath);
                    progress?.Report(new SweepProgress(done, total, cellsDone, cells.Count, cell.ToString()!));
                }
            }
        }
        if (workers.Count == 1) Work(sweep);
        else
        {
            // One thread per accelerator; the first failure stops the others and is the one reported.
            var tasks = workers.Select(worker => Task.Factory.StartNew(() =>
            {
                try
                {
                    Work(worker);
                }
                catch
                {
                    stop.Cancel();
                    throw;
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            try
            {
                Task.WaitAll(tasks, CancellationToken.None);
            }
            catch (AggregateException e)
            {
                var first = e.InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
        }

        csv.Complete(cells.Select(c => c.Key).ToList());
        manifest.Status = "complete";
        manifest.FinishedUtc = DateTime.UtcNow;
        manifest.WallSeconds = wallBefore + clock.Elapsed.TotalSeconds;
        manifest.Files = [sweep.CsvName];
        manifest.Save(manifestPath);
        return manifest;
    }

    /// <summary>"samples: [10,32] there, [10] here; seeds: 100 there, 20 here" — what a resume would change.</summary>
    static string Differences(RunManifest previous, JsonNode here, Shard? shard)
    {
        if (previous.Configuration is not JsonObject old || here is not JsonObject now) return "not a configuration of this command";
        var keys = old.Select(p => p.Key).Union(now.Select(p => p.Key));
        var differences = keys.Where(k => !JsonNode.DeepEquals(old[k], now[k]))
            .Select(k => $"{k}: {Compact(old[k])} there, {Compact(now[k])} here").ToList();
        if (previous.Shard != shard?.ToString())
            differences.Add($"shard: {previous.Shard ?? "whole grid"} there, {shard?.ToString() ?? "whole grid"} here");
        return differences.Count > 0 ? string.Join("; ", differences) : "a different command";
    }

    static string Compact(JsonNode? node) => node?.ToJsonString() ?? "absent";
}
