using System.Diagnostics;
using System.Text.Json.Nodes;
using Collapse.Engine.Reports;
using Collapse.Engine.Reproduce;
using Collapse.Experiments.Runs;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Validation;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Experiments.Reproduce;

/// <summary>
/// The paper's experiments for a preset, each into DIR/NAME (as <c>collapse run NAME --out DIR/NAME</c>
/// would write it), then DIR/REPORT.md with a computed verdict on each of the paper's claims: what
/// <c>collapse reproduce</c> runs. A finished experiment with the same configuration is skipped; an
/// interrupted one resumes from its sweep's journal.
/// </summary>
/// <param name="Preset">The configurations (<see cref="ReproducePreset.Named"/>: quick, paper, test).</param>
/// <param name="Directory">DIR: the experiments' folders, reproduce.json and REPORT.md.</param>
public sealed record Reproduction(ReproducePreset Preset, string Directory)
{
    /// <summary>The experiments to run (<see cref="ReproduceExperiments.Select"/>); the report covers every one finished in DIR.</summary>
    public IReadOnlyList<ReproduceExperiment> Experiments { get; init; } = ReproduceExperiments.All;
    public string Accelerator { get; init; } = "auto";
    /// <summary>Run every selected experiment again from the start, even if finished there.</summary>
    public bool Force { get; init; }
    /// <summary>What each manifest records as the command.</summary>
    public string Command { get; init; } = SweepJob.LibraryCommand;

    /// <summary>Runs what is not finished, writes REPORT.md and returns what it says.</summary>
    public ReproduceReport Run(IRunReporter reporter, CancellationToken cancellation = default)
    {
        AcceleratorSpec.Parse(Accelerator); // a malformed one is refused before anything runs
        // Refuse a directory holding another configuration before anything runs (SweepRun would, but only when it got there).
        foreach (var e in Experiments)
        {
            var there = RunManifest.TryLoad(Path.Combine(Directory, e.Name, SweepRun.ManifestName));
            if (!Force && there?.Configuration is not null && !JsonNode.DeepEquals(there.Configuration, RunManifest.ConfigurationNode(e.Configuration(Preset))))
                throw new InvalidParameterException(ParameterProblem.Conflict, nameof(Directory), Directory,
                    $"a directory without another run, or {Param(nameof(Force))} to start over",
                    $"{Param(nameof(Directory))} '{Directory}' already holds a {e.Name} run with a different configuration than preset {Preset.Name}'s",
                    other: nameof(Force), advice: $"choose another {Param(nameof(Directory))}, or add {Param(nameof(Force))} to start over there");
        }

        var state = ReproduceState.Load(Directory);
        var ranNow = new HashSet<string>();
        for (var i = 0; i < Experiments.Count; i++)
        {
            var e = Experiments[i];
            var folder = Path.Combine(Directory, e.Name);
            var configuration = RunManifest.ConfigurationNode(e.Configuration(Preset));
            if (!Force && Finished(state, e, folder, configuration))
            {
                reporter.Line($"reproduce: {e.Name} already finished in {folder} with this configuration " +
                              $"({state.Experiments[e.Name].WallSeconds:F1} s, an earlier run); skipping");
                continue;
            }
            reporter.Line($"reproduce: {e.Name} ({i + 1}/{Experiments.Count}) → {folder}");
            var clock = Stopwatch.StartNew();
            e.Run(Preset, new SweepJob(e.Name, folder) { Force = Force, Accelerator = Accelerator, Command = Command }, reporter, cancellation);
            state = ReproduceState.Load(Directory);
            state.Preset = Preset.Name;
            state.Experiments[e.Name] = new ReproduceState.ExperimentState
            {
                Configuration = configuration,
                WallSeconds = clock.Elapsed.TotalSeconds,
                FinishedUtc = DateTime.UtcNow,
            };
            state.Save(Directory);
            ranNow.Add(e.Name);
            reporter.Line($"reproduce: {e.Name} finished in {clock.Elapsed.TotalSeconds:F1} s");
        }

        // The report covers every experiment finished here with this preset's configuration, not only those run now.
        var reported = new List<ReportExperiment>();
        string? machine = null;
        foreach (var e in ReproduceExperiments.All)
        {
            var folder = Path.Combine(Directory, e.Name);
            var configuration = RunManifest.ConfigurationNode(e.Configuration(Preset));
            if (!Finished(state, e, folder, configuration)) continue;
            var manifest = RunManifest.TryLoad(Path.Combine(folder, SweepRun.ManifestName))!;
            machine ??= manifest.Machine;
            reported.Add(new ReportExperiment(e.Name, state.Experiments[e.Name].WallSeconds, ranNow.Contains(e.Name),
                $"{manifest.Accelerator} — {manifest.Device}", manifest.Commit, e.Claims(folder)));
        }
        var report = new ReproduceReport(Path.Combine(Directory, ReportWriter.FileName), reported);
        var temporary = report.Path + ".tmp";
        File.WriteAllText(temporary, ReportWriter.Render(Preset.Name, Preset.Description, reported, Directory, machine));
        File.Move(temporary, report.Path, overwrite: true);
        var claims = report.Claims;
        reporter.Line($"wrote {report.Path}: {claims.Count} claims over {string.Join(", ", reported.Select(r => r.Name))} — " +
                      string.Join(", ", Enum.GetValues<Verdict>().Select(v => $"{claims.Count(c => c.Verdict == v)} {ReportWriter.Label(v)}")));
        return report;
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

/// <summary>What a reproduce run wrote in REPORT.md.</summary>
/// <param name="Path">REPORT.md.</param>
/// <param name="Experiments">Every experiment the report covers (finished in the directory with the preset's configuration), with its claims.</param>
public sealed record ReproduceReport(string Path, IReadOnlyList<ReportExperiment> Experiments)
{
    public IReadOnlyList<Claim> Claims => [.. Experiments.SelectMany(e => e.Claims)];
}
