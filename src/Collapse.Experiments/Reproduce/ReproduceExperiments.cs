using Collapse.Engine.Reports;
using Collapse.Engine.Reproduce;
using Collapse.Experiments.Runs;
using Collapse.Kernels.Validation;

namespace Collapse.Experiments.Reproduce;

/// <summary>
/// One experiment of reproduce: its name (and folder under the output directory), the configuration
/// a preset gives it, how to run it into a directory (the same CSV, manifest and figures as
/// <c>collapse run NAME --out DIR/NAME</c>), and the claims its data are checked against.
/// </summary>
/// <param name="Name">The --only name and the folder DIR/NAME.</param>
/// <param name="Configuration">The preset's configuration for it; recorded, and compared on a rerun (equal and finished: skipped).</param>
/// <param name="Run">Runs it for the preset with the given job (its directory is DIR/NAME) and returns the manifest the sweep wrote.</param>
/// <param name="Claims">The claims computed from what it wrote in its directory.</param>
public sealed record ReproduceExperiment(
    string Name,
    Func<ReproducePreset, object> Configuration,
    Func<ReproducePreset, SweepJob, IRunReporter, CancellationToken, RunManifest> Run,
    Func<string, IReadOnlyList<Claim>> Claims);

/// <summary>
/// The experiments reproduce runs, in order. Adding one is one entry here (and its configuration in
/// <see cref="ReproducePreset"/>): e.g. the mix study's entry runs <see cref="ExperimentRuns.Mix"/> and its
/// claims are built from <c>mix.csv</c> with <see cref="Collapse.Engine.Reports.MixEffects"/> into
/// <see cref="Claim"/>s (rows per grid point, a <see cref="Verdict"/> per row, <see cref="ClaimRules.Aggregate"/> or a rule of its own).
/// </summary>
public static class ReproduceExperiments
{
    public static readonly IReadOnlyList<ReproduceExperiment> All =
    [
        new("gaussian", p => p.Gaussian, (p, job, reporter, cancel) => ExperimentRuns.Gaussian(p.Gaussian, job, reporter, cancel),
            dir => ExperimentClaims.Gaussian(GaussianRow.ReadAll(Path.Combine(dir, GaussianSweep.CsvFile)))),
        new("kde", p => p.Kde, (p, job, reporter, cancel) => ExperimentRuns.Kde(p.Kde, job, reporter, cancel),
            dir => ExperimentClaims.Kde(KdeRow.ReadAll(Path.Combine(dir, KdeSweep.CsvFile)))),
        new("kde-bandwidth", p => p.KdeBandwidth, (p, job, reporter, cancel) => ExperimentRuns.Kde(p.KdeBandwidth, job, reporter, cancel),
            dir => ExperimentClaims.KdeBandwidth(KdeRow.ReadAll(Path.Combine(dir, KdeSweep.CsvFile)))),
        new("regression", p => p.Regression, (p, job, reporter, cancel) => ExperimentRuns.Regression(p.Regression, job, reporter, cancel),
            dir => ExperimentClaims.Regression(RegressionRow.ReadAll(Path.Combine(dir, RegressionSweep.CsvFile)))),
        new("lm", p => p.Lm, (p, job, reporter, cancel) => ExperimentRuns.Lm(p.Lm, job, reporter, cancel),
            dir => ExperimentClaims.Lm(LmRow.ReadAll(Path.Combine(dir, LmSweep.CsvFile)))),
        Mix("mix-gaussian", p => p.MixGaussian),
        Mix("mix-kde", p => p.MixKde),
        Mix("mix-lm", p => p.MixLm),
        Mix("mix-regression", p => p.MixRegression),
    ];

    /// <summary>One family's mix study; the name mix selects every one.</summary>
    static ReproduceExperiment Mix(string name, Func<ReproducePreset, MixSweepConfig> config) => new(name, p => config(p),
        (p, job, reporter, cancel) => ExperimentRuns.Mix(config(p), job, reporter, cancel),
        dir =>
        {
            var (header, rows) = MixRow.ReadAll(Path.Combine(dir, MixRow.FileName));
            var protocol = MixSummary.LmProtocol(RunManifest.TryLoad(Path.Combine(dir, "manifest.json"))?.Configuration);
            return ExperimentClaims.Mix(name, header, rows, protocol: protocol);
        });

    /// <summary>A group name that stands for several experiments.</summary>
    public static IReadOnlyList<ReproduceExperiment> Group(string name) =>
        string.Equals(name, "mix", StringComparison.OrdinalIgnoreCase) ? [.. All.Where(e => e.Name.StartsWith("mix-", StringComparison.Ordinal))] : [];

    public static string ValidNames => string.Join(", ", All.Select(e => e.Name)) + " (mix: every mix-*)";

    /// <summary>The experiments a comma-separated list names (--only; case-insensitive, groups allowed), in <see cref="All"/>'s order; all of them when null.</summary>
    public static IReadOnlyList<ReproduceExperiment> Select(string? only)
    {
        if (only is null) return All;
        var names = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw InvalidParameterException.Empty("Only", $"expected some of {ValidNames}");
        foreach (var name in names)
            if (!All.Any(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) && Group(name).Count == 0)
                throw InvalidParameterException.BadValue("Only", name, $"expected some of {ValidNames}");
        var chosen = names.SelectMany(n => Group(n).Select(e => e.Name).DefaultIfEmpty(n)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. All.Where(e => chosen.Contains(e.Name))];
    }
}
