using System.CommandLine;
using Collapse.Cli.Console;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;
using Collapse.Experiments.Figures;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run kde</c>: the kernel density estimation setting over the paper's grid.</summary>
static class RunKdeCommand
{
    /// <summary>The iterations the sample pictures show (those within the run).</summary>
    static readonly int[] PictureIterations = [1, 10, 100];

    public static Command Build()
    {
        var datasets = new Option<string>("--datasets") { Description = "Datasets: blobs, circles, moons, swiss-roll", DefaultValueFactory = _ => "blobs,circles,moons,swiss-roll" };
        var bandwidths = new Option<string>("--bandwidths") { Description = "Bandwidths h: positive numbers, or scott / silverman (scikit-learn's rules)", DefaultValueFactory = _ => "0.1,0.5,1.0" };
        var testSize = new Option<int>("--test-size") { Description = "Held-out real test points per seed", DefaultValueFactory = _ => 500 };
        var sweep = new SweepCommand("kde", "auto: SIMD C# for the CPU's scoring; ilgpu: ILGPU kernels everywhere");
        var command = sweep.Command("Kernel density estimation refitted on its own samples (paper's setting B)", datasets, bandwidths, testSize);
        command.SetAction(parse =>
        {
            var config = new KdeSweepConfig
            {
                Datasets = ArgumentLists.DatasetList("--datasets", parse.GetValue(datasets)!),
                Bandwidths = ArgumentLists.BandwidthList("--bandwidths", parse.GetValue(bandwidths)!),
                Samples = ArgumentLists.Integers("--samples", parse.GetValue(sweep.Samples)!),
                Seeds = parse.GetValue(sweep.Seeds),
                Iterations = parse.GetValue(sweep.Iterations),
                Settings = SweepCommand.SettingList(parse, sweep.Settings),
                TestSize = parse.GetValue(testSize),
                Seed = parse.GetValue(sweep.Seed),
            };
            config.Validate();
            return sweep.Run(parse, (job, cancellation) => Execute(config, job, sweep.AllowNonFinite(parse), cancellation));
        });
        return command;
    }

    /// <summary>The sweep, its figures and sample pictures into <see cref="SweepJob.Directory"/>, as <c>collapse run kde</c> writes them.</summary>
    public static RunManifest Execute(KdeSweepConfig config, SweepJob job, bool allowNonFinite, CancellationToken cancellation) =>
        SweepCommand.Execute<KdeCell, KdeSweep>(job, (device, path) => new KdeSweep(device, config, path) { AllowNonFinite = allowNonFinite },
            (first, figures, cancellation) =>
            {
                // The pictures follow one seed at the largest n: cheap beside the sweep, so they are redrawn each time.
                var directory = Path.GetDirectoryName(figures)!;
                var shown = PictureIterations.Where(t => t <= config.Iterations).Append(config.Iterations).Distinct().ToList();
                var samplesPath = Path.Combine(directory, KdeSweep.SamplesFile);
                var temporary = samplesPath + ".tmp";
                File.WriteAllLines(temporary, first.PictureSamples(config.Samples.Max(), shown, cancellation).Prepend(KdeSweep.SamplesHeader));
                File.Move(temporary, samplesPath, overwrite: true);
                return KdeFigures.DrawAll(KdeRow.ReadAll(Path.Combine(directory, KdeSweep.CsvFile)), KdeFigures.ReadSamples(samplesPath), figures).Count;
            },
            cancellation,
            (first, elapsed) =>
            {
                if (first.ScoredPairs > 0)
                    System.Console.WriteLine($"scored {first.ScoredPairs:N0} test × fitted point pairs in {elapsed.TotalSeconds:F1} s " +
                        $"({first.ScoredPairs / elapsed.TotalSeconds / 1e6:F0} M pairs/s, everything included)");
            });
}
