using Collapse.Experiments.Figures;
using Collapse.Engine.Reproduce;
using Collapse.Experiments.Reproduce;
using Collapse.Experiments.Runs;

namespace Collapse.Tests.Experiments;

/// <summary>Reproduce as a notebook would call it: the library alone (no CLI types), a plain reporter, the seconds-long test preset.</summary>
public class ReproductionTests
{
    [Fact]
    public void The_test_preset_writes_every_experiments_csv_and_figures_and_a_report_of_their_claims()
    {
        var directory = Directory.CreateTempSubdirectory("collapse-tests-").FullName;
        var lines = new List<string>();
        var report = new Reproduction(ReproducePreset.Test(), directory) { Accelerator = "cpu" }
            .Run(new PlainReporter(lines.Add), TestContext.Current.CancellationToken);

        Assert.Equal(ReproduceExperiments.All.Select(e => e.Name), report.Experiments.Select(e => e.Name));
        // Each experiment's CSV and its figures, as `collapse run NAME` writes them.
        (string Experiment, string Csv, int Figures)[] expected =
        [
            ("gaussian", "gaussian.csv", 3 * 2), // 3 metrics × 2 dimensions
            ("kde", "kde.csv", 2), // the NLL figure and one sample picture
            ("kde-bandwidth", "kde.csv", 3 + 3 + 1), // an NLL figure and a sample picture per bandwidth, and the NLL against h
            ("lm", "lm.csv", 1),
            ("mix-gaussian", MixRow.FileName, 2), ("mix-kde", MixRow.FileName, 2), ("mix-lm", MixRow.FileName, 2),
        ];
        foreach (var (experiment, csv, figures) in expected)
        {
            var folder = Path.Combine(directory, experiment);
            Assert.True(File.ReadLines(Path.Combine(folder, csv)).Skip(1).Any(), $"{experiment}: {csv} has no rows");
            Assert.Equal(figures, Directory.GetFiles(Path.Combine(folder, "figures"), "*.png").Length);
            var manifest = RunManifest.TryLoad(Path.Combine(folder, "manifest.json"))!;
            Assert.Equal(("complete", SweepJob.LibraryCommand), (manifest.Status, manifest.Command));
            Assert.Contains($"reproduce: {experiment} finished in", string.Join('\n', lines));
        }
        Assert.True(File.Exists(Path.Combine(directory, "kde", "kde-samples.csv")));
        Assert.True(File.Exists(Path.Combine(directory, "mix-kde", "summary.md")));
        Assert.True(File.Exists(Path.Combine(directory, "kde-bandwidth", "figures", KdeFigures.BandwidthFigure)));

        Assert.Equal(Path.Combine(directory, "REPORT.md"), report.Path);
        var markdown = File.ReadAllText(report.Path);
        Assert.Contains("`test`", markdown);
        Assert.NotEmpty(report.Claims);
        foreach (var claim in report.Claims) Assert.Contains($"[{claim.Id}](#{claim.Id})", markdown);
        // The language model runs both regimes and its mix study fine-tunes; the report says which is the paper's protocol.
        Assert.Equal([LmRegime.Scratch, LmRegime.Finetune], LmRow.ReadAll(Path.Combine(directory, "lm", LmSweep.CsvFile)).Select(r => r.Regime).Distinct());
        Assert.Contains("finetune: every fit starts from one base pretrained on Shakespeare's words (the paper's protocol)", markdown);
        Assert.Contains("scratch: every fit starts from the seed's random weights (an extension", markdown);
        Assert.Contains("every fit fine-tunes one base pretrained on Shakespeare's words (the paper's protocol); one epoch over num_real + num_synthetic per fit (the paper's budget)", markdown);
        Assert.StartsWith($"wrote {report.Path}: {report.Claims.Count} claims", lines[^1]);
    }
}
