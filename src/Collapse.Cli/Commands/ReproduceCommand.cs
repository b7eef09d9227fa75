using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Collapse.Engine.Reports;
using Collapse.Engine.Reproduce;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Experiments.Runs;
using Collapse.Kernels.Accelerators;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse reproduce</c>: every experiment of the paper for a preset, each into DIR/NAME (as
/// <c>collapse run NAME --out DIR/NAME</c> would write it), then DIR/REPORT.md with a computed
/// verdict on each of the paper's claims. A finished experiment with the same configuration is
/// skipped; an interrupted one resumes from its sweep's journal.
/// </summary>
static class ReproduceCommand
{
    public static Command Build()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "quick (every experiment at reduced size: minutes on a 2-core CPU) or paper (the paper's grids)",
            DefaultValueFactory = _ => "quick",
        };
        var only = new Option<string?>("--only") { Description = $"Run only these experiments, comma-separated: {ReproduceExperiments.ValidNames} (default: all)" };
        var output = new Option<string?>("--out") { Description = "Output directory (default: results/reproduce/<preset>)" };
        var force = new Option<bool>("--force", "--overwrite") { Description = "Run every selected experiment again from the start, even if finished there" };
        var accelerator = CollapseApp.AcceleratorOption();
        var command = new Command("reproduce", "Run the paper's experiments for a preset and write DIR/REPORT.md with a computed verdict on each claim")
        {
            preset, only, accelerator, output, force,
        };
        command.SetAction(parse =>
        {
            var chosen = ReproducePreset.Named(parse.GetValue(preset)!);
            var selected = Select(parse.GetValue(only));
            var directory = parse.GetValue(output) ?? Path.Combine("results", "reproduce", chosen.Name);
            AcceleratorSpec.Parse(parse.GetValue(accelerator)!); // a malformed one is refused before anything runs
            using var cancel = CollapseApp.CancelOnCtrlC();
            return Run(chosen, selected, directory, parse.GetValue(accelerator)!, parse.GetValue(force), cancel.Token);
        });
        return command;
    }

    /// <summary>The experiments --only names, in the registry's order; all of them when absent.</summary>
    static IReadOnlyList<ReproduceExperiment> Select(string? only)
    {
        if (only is null) return ReproduceExperiments.All;
        var names = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new UsageException($"--only is empty: expected some of {ReproduceExperiments.ValidNames}");
        foreach (var name in names)
            if (!ReproduceExperiments.All.Any(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) && ReproduceExperiments.Group(name).Count == 0)
                throw new UsageException($"--only '{name}' is not valid: expected some of {ReproduceExperiments.ValidNames}");
        var chosen = names.SelectMany(n => ReproduceExperiments.Group(n).Select(e => e.Name).DefaultIfEmpty(n)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. ReproduceExperiments.All.Where(e => chosen.Contains(e.Name))];
    }

    static int Run(ReproducePreset preset, IReadOnlyList<ReproduceExperiment> selected, string directory, string accelerator, bool force,
        CancellationToken cancellation)
    {
        // Refuse a directory holding another configuration before anything runs (SweepRun would, but only when it got there).
        foreach (var e in selected)
        {
            var there = RunManifest.TryLoad(Path.Combine(directory, e.Name, SweepRun.ManifestName));
            if (!force && there?.Configuration is not null && !JsonNode.DeepEquals(there.Configuration, RunManifest.ConfigurationNode(e.Configuration(preset))))
                throw new UsageException($"--out '{directory}' already holds a {e.Name} run with a different configuration than preset {preset.Name}'s: " +
                                         "choose another --out, or add --force to start over there");
        }

        var state = ReproduceState.Load(directory);
        var ranNow = new HashSet<string>();
        for (var i = 0; i < selected.Count; i++)
        {
            var e = selected[i];
            var folder = Path.Combine(directory, e.Name);
            var configuration = RunManifest.ConfigurationNode(e.Configuration(preset));
            if (!force && Finished(state, e, folder, configuration))
            {
                System.Console.WriteLine($"reproduce: {e.Name} already finished in {folder} with this configuration " +
                                         $"({state.Experiments[e.Name].WallSeconds:F1} s, an earlier run); skipping");
                continue;
            }
            System.Console.WriteLine($"reproduce: {e.Name} ({i + 1}/{selected.Count}) → {folder}");
            var clock = Stopwatch.StartNew();
            e.Run(preset, new SweepJob(e.Name, folder) { Force = force, Accelerator = accelerator, Command = CollapseApp.CommandLine() }, cancellation);
            state = ReproduceState.Load(directory);
            state.Preset = preset.Name;
            state.Experiments[e.Name] = new ReproduceState.ExperimentState
            {
                Configuration = configuration,
                WallSeconds = clock.Elapsed.TotalSeconds,
                FinishedUtc = DateTime.UtcNow,
            };
            state.Save(directory);
            ranNow.Add(e.Name);
            System.Console.WriteLine($"reproduce: {e.Name} finished in {clock.Elapsed.TotalSeconds:F1} s");
        }

        // The report covers every experiment finished here with this preset's configuration, not only those run now.
        var reported = new List<ReportExperiment>();
        string? machine = null;
        foreach (var e in ReproduceExperiments.All)
        {
            var folder = Path.Combine(directory, e.Name);
            var configuration = RunManifest.ConfigurationNode(e.Configuration(preset));
            if (!Finished(state, e, folder, configuration)) continue;
            var manifest = RunManifest.TryLoad(Path.Combine(folder, SweepRun.ManifestName))!;
            machine ??= manifest.Machine;
            reported.Add(new ReportExperiment(e.Name, state.Experiments[e.Name].WallSeconds, ranNow.Contains(e.Name),
                $"{manifest.Accelerator} — {manifest.Device}", manifest.Commit, e.Claims(folder)));
        }
        var report = Path.Combine(directory, ReportWriter.FileName);
        var temporary = report + ".tmp";
        File.WriteAllText(temporary, ReportWriter.Render(preset.Name, preset.Description, reported, directory, machine));
        File.Move(temporary, report, overwrite: true);
        var claims = reported.SelectMany(r => r.Claims).ToList();
        System.Console.WriteLine($"wrote {report}: {claims.Count} claims over {string.Join(", ", reported.Select(r => r.Name))} — " +
                                 string.Join(", ", Enum.GetValues<Verdict>().Select(v => $"{claims.Count(c => c.Verdict == v)} {ReportWriter.Label(v)}")));
        return 0;
    }

    /// <summary>Finished here: recorded with this configuration, and its manifest complete with it (and its files present).</summary>
    static bool Finished(ReproduceState state, ReproduceExperiment e, string folder, JsonNode configuration)
    {
        if (!state.Finished(e.Name, configuration)) return false;
        var manifest = RunManifest.TryLoad(Path.Combine(folder, SweepRun.ManifestName));
        return manifest is { Status: "complete", Configuration: not null } && JsonNode.DeepEquals(manifest.Configuration, configuration)
               && manifest.Files.All(f => File.Exists(Path.Combine(folder, f)));
    }
}
