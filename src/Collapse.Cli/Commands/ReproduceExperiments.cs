using Collapse.Engine.Reports;
using Collapse.Engine.Reproduce;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Cli.Console;
using Collapse.Experiments.Runs;

namespace Collapse.Cli.Commands;

/// <summary>
/// One experiment of <c>collapse reproduce</c>: its name (and folder under the output directory),
/// the configuration a preset gives it, how to run it into a directory (the same CSV, manifest and
/// figures as <c>collapse run NAME --out DIR/NAME</c>), and the claims its data are checked against.
/// </summary>
/// <param name="Name">The --only name and the folder DIR/NAME.</param>
/// <param name="Configuration">The preset's configuration for it; recorded, and compared on a rerun (equal and finished: skipped).</param>
/// <param name="Run">Runs it for the preset with the given job (its directory is DIR/NAME) and returns the manifest the sweep wrote.</param>
/// <param name="Claims">The claims computed from what it wrote in its directory.</param>
sealed record ReproduceExperiment(
    string Name,
    Func<ReproducePreset, object> Configuration,
    Func<ReproducePreset, SweepJob, CancellationToken, RunManifest> Run,
    Func<string, IReadOnlyList<Claim>> Claims);

/// <summary>
/// The experiments reproduce runs, in order. Adding one is one entry here (and its configuration in
/// <see cref="ReproducePreset"/>): e.g. the mix study's entry runs <c>RunMixCommand.Execute</c> and its
/// claims are built from <c>mix.csv</c> with <see cref="Collapse.Engine.Reports.MixEffects"/> into
/// <see cref="Claim"/>s (rows per grid point, a <see cref="Verdict"/> per row, <see cref="ClaimRules.Aggregate"/> or a rule of its own).
/// </summary>
static class ReproduceExperiments
{
    public static readonly IReadOnlyList<ReproduceExperiment> All =
    [
        new("gaussian", p => p.Gaussian,
            (p, job, cancel) => ExperimentRuns.Gaussian(p.Gaussian, job, ProgressDisplay.Instance, cancel),
            dir => ExperimentClaims.Gaussian(GaussianRow.ReadAll(Path.Combine(dir, GaussianSweep.CsvFile)))),
        new("kde", p => p.Kde,
            (p, job, cancel) => ExperimentRuns.Kde(p.Kde, job, ProgressDisplay.Instance, cancel),
            dir => ExperimentClaims.Kde(KdeRow.ReadAll(Path.Combine(dir, KdeSweep.CsvFile)))),
        new("lm", p => p.Lm,
            (p, job, cancel) => ExperimentRuns.Lm(p.Lm, job, ProgressDisplay.Instance, cancel),
            dir => ExperimentClaims.Lm(LmRow.ReadAll(Path.Combine(dir, LmSweep.CsvFile)))),
        Mix("mix-gaussian", p => p.MixGaussian),
        Mix("mix-kde", p => p.MixKde),
        Mix("mix-lm", p => p.MixLm),
    ];

    /// <summary>One family's mix study; --only mix selects all three.</summary>
    static ReproduceExperiment Mix(string name, Func<ReproducePreset, MixSweepConfig> config) => new(name, p => config(p),
        (p, job, cancel) => ExperimentRuns.Mix(config(p), job, ProgressDisplay.Instance, cancel),
        dir =>
        {
            var (header, rows) = MixRow.ReadAll(Path.Combine(dir, MixRow.FileName));
            return ExperimentClaims.Mix(name, header, rows);
        });

    /// <summary>A group name --only accepts for several experiments.</summary>
    public static IReadOnlyList<ReproduceExperiment> Group(string name) =>
        string.Equals(name, "mix", StringComparison.OrdinalIgnoreCase) ? [.. All.Where(e => e.Name.StartsWith("mix-", StringComparison.Ordinal))] : [];

    public static string ValidNames => string.Join(", ", All.Select(e => e.Name)) + " (mix: all three mix-*)";
}
