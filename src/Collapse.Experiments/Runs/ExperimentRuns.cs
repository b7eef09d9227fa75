using System.Diagnostics;
using Collapse.Experiments.Figures;
using Collapse.Kernels.Accelerators;

namespace Collapse.Experiments.Runs;

/// <summary>
/// One experiment's sweep into <see cref="SweepJob.Directory"/>, exactly as <c>collapse run NAME</c>
/// writes it: the accelerators opened (a sweep on each, taking cells in turn), the resumable sweep
/// (<see cref="SweepRun"/>: CSV and manifest), then, for a whole grid unless <see cref="SweepJob.Figures"/>
/// is off, the figures drawn from the CSV. Each returns the manifest.
/// </summary>
public static class ExperimentRuns
{
    public static RunManifest Gaussian(GaussianSweepConfig config, SweepJob job, IRunReporter reporter, CancellationToken cancellation = default) =>
        Sweep<GaussianCell, GaussianSweep>(job, reporter, device => new GaussianSweep(device, config, job.Kernels) { AllowNonFinite = job.AllowNonFinite }, cancellation);

    public static RunManifest Regression(RegressionSweepConfig config, SweepJob job, IRunReporter reporter, CancellationToken cancellation = default) =>
        Sweep<RegressionCell, RegressionSweep>(job, reporter, device => new RegressionSweep(device, config, job.Kernels) { AllowNonFinite = job.AllowNonFinite }, cancellation);

    /// <summary>With the figures, <c>kde-samples.csv</c>: the points the sample pictures show.</summary>
    public static RunManifest Kde(KdeSweepConfig config, SweepJob job, IRunReporter reporter, CancellationToken cancellation = default) =>
        Sweep<KdeCell, KdeSweep>(job, reporter, device => new KdeSweep(device, config, job.Kernels) { AllowNonFinite = job.AllowNonFinite }, cancellation,
            (first, elapsed) =>
            {
                if (first.ScoredPairs > 0)
                    reporter.Line($"scored {first.ScoredPairs:N0} test × fitted point pairs in {elapsed.TotalSeconds:F1} s " +
                                  $"({first.ScoredPairs / elapsed.TotalSeconds / 1e6:F0} M pairs/s, everything included; " +
                                  $"{(double)first.SkippedPairs / first.ScoredPairs:P1} skipped as below the {Kernels.Cpu.SimdKde.DefaultTolerance:G2} bound)");
            },
            (first, cancel) =>
            {
                // One seed at the largest n, at a few iterations within the run: cheap beside the sweep, so redrawn each time.
                var shown = PictureIterations.Where(t => t <= config.Iterations).Append(config.Iterations).Distinct().ToList();
                var samplesPath = Path.Combine(job.Directory, KdeSweep.SamplesFile);
                var temporary = samplesPath + ".tmp";
                File.WriteAllLines(temporary, first.PictureSamples(config.Samples.Max(), shown, cancel).Prepend(KdeSweep.SamplesHeader));
                File.Move(temporary, samplesPath, overwrite: true);
            });

    /// <summary>The iterations the KDE sample pictures show (those within the run, and the last).</summary>
    static readonly int[] PictureIterations = [1, 10, 100];

    /// <summary>With the CSV, sampled names per cell in <c>names/</c>.</summary>
    public static RunManifest Lm(LmSweepConfig config, SweepJob job, IRunReporter reporter, CancellationToken cancellation = default) =>
        Sweep<LmCell, LmSweep>(job, reporter, device => new LmSweep(device, config, job.Kernels)
        {
            AllowNonFinite = job.AllowNonFinite,
            NamesDirectory = Path.Combine(job.Directory, LmSweep.NamesFolder),
            Log = reporter.Line,
        }, cancellation);

    /// <summary>With the figures, <c>summary.md</c> (the paired effects).</summary>
    public static RunManifest Mix(MixSweepConfig config, SweepJob job, IRunReporter reporter, CancellationToken cancellation = default) =>
        Sweep<MixCell, MixSweep>(job, reporter, device => new MixSweep(device, config, job.Kernels) { AllowNonFinite = job.AllowNonFinite, Log = reporter.Line }, cancellation);

    /// <param name="afterSweep">Told the first sweep and the time since the devices opened, once the CSV is written.</param>
    /// <param name="beforeFigures">Writes what the figures need beside the CSV.</param>
    static RunManifest Sweep<TCell, TSweep>(SweepJob job, IRunReporter reporter, Func<ComputeDevice, TSweep> make, CancellationToken cancellation,
        Action<TSweep, TimeSpan>? afterSweep = null, Action<TSweep, CancellationToken>? beforeFigures = null)
        where TCell : ISweepCell where TSweep : ISweep<TCell>
    {
        var directory = job.Directory;
        var opened = job.OpenDevices();
        foreach (var device in opened) reporter.Line($"accelerator: {device.Description}");
        var workers = opened.Select(make).ToList();
        using var release = new Disposer(workers.Cast<IDisposable>(), opened);
        RunManifest? manifest = null;
        var clock = Stopwatch.StartNew();
        reporter.Sweep(job.Experiment, progress =>
            manifest = SweepRun.Execute<TCell>([.. workers.Cast<ISweep<TCell>>()], directory, job.Force, job.Command,
                progress, cancellation, reporter.Line, job.Shard));
        var csv = Path.Combine(directory, workers[0].CsvName);
        reporter.Line($"wrote {csv} ({manifest!.WallSeconds:F1} s of sweep)");
        afterSweep?.Invoke(workers[0], clock.Elapsed);
        if (job.Shard is not null)
            reporter.Line($"shard {job.Shard}: no figures for a slice of the grid; run 'collapse merge' over every shard, then 'collapse plot'");
        else if (job.Figures)
        {
            beforeFigures?.Invoke(workers[0], cancellation);
            var figures = Path.Combine(directory, "figures");
            reporter.Line($"wrote {RunFigures.Draw(csv, figures).Figures.Count} figures to {figures}");
        }
        return manifest;
    }

    /// <summary>Disposes the sweeps, then the devices they ran on.</summary>
    sealed class Disposer(IEnumerable<IDisposable> sweeps, IEnumerable<IDisposable> devices) : IDisposable
    {
        public void Dispose()
        {
            foreach (var s in sweeps) s.Dispose();
            foreach (var d in devices) d.Dispose();
        }
    }
}
