using System.Globalization;

namespace Collapse.Tests.Cli;

/// <summary>
/// <c>collapse reproduce</c> as a user runs it (a real process, the hidden seconds-long <c>test</c>
/// preset): the experiments' files, a report whose verdicts and numbers come from the CSVs, skipping
/// what is finished, resuming after a kill, and refusing bad input.
/// </summary>
public class ReproduceCliTests
{
    [Fact]
    public void Reproduce_writes_the_experiment_and_a_report_computed_from_its_csv_then_skips_it_on_a_rerun()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run("reproduce", "--preset", "test", "--only", "gaussian", "--out", directory);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("reproduce: gaussian (1/1)", result.Out);
        Assert.Matches(@"reproduce: gaussian finished in [0-9.]+ s", result.Out);
        var csv = Path.Combine(directory, "gaussian", "gaussian.csv");
        Assert.True(File.Exists(csv));
        Assert.True(File.Exists(Path.Combine(directory, "gaussian", "manifest.json")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(directory, "gaussian", "figures"), "*.png"));
        Assert.False(Directory.Exists(Path.Combine(directory, "kde")));

        var report = File.ReadAllText(Path.Combine(directory, "REPORT.md"));
        Assert.Contains("`test`", report);
        // The report names the accelerator the run used (auto: the CPU here, OpenCL where PoCL is present).
        using (var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "gaussian", "manifest.json"))))
            Assert.Contains(manifest.RootElement.GetProperty("accelerator").GetString()!, report);
        Assert.DoesNotContain("## kde", report);
        // Every claim's verdict in the summary is what the rules compute from the CSV the run wrote.
        var rows = GaussianRow.ReadAll(csv);
        var claims = ExperimentClaims.Gaussian(rows);
        Assert.Equal(["gaussian-replace", "gaussian-accumulate", "gaussian-subsample-between", "gaussian-subsample-plateau", "gaussian-theory"],
            claims.Select(c => c.Id));
        foreach (var claim in claims)
            Assert.Contains($"[{claim.Id}](#{claim.Id}) {claim.Statement} | **{ReportWriter.Label(claim.Verdict)}** |", report);
        // A number recomputed here by plain arithmetic, not by the rules: Replace's mean trace ratio at the last iteration, d = 1, n = 10.
        var last = rows.Max(r => r.Iteration);
        var mean = rows.Where(r => r.Setting == Setting.Replace && r.Dim == 1 && r.N == 10 && r.Iteration == last).Average(r => r.TraceRatio);
        var replaceRow = report.Split('\n').Single(l => l.StartsWith("| trace_ratio d=1 n=10 |", StringComparison.Ordinal) && l.Contains("| -", StringComparison.Ordinal)
                                                        && report.IndexOf(l, StringComparison.Ordinal) < report.IndexOf("gaussian-accumulate\"", StringComparison.Ordinal));
        Assert.Contains(mean.ToString("G4", CultureInfo.InvariantCulture) + " ± ", replaceRow);
        // The figures are linked relative to the report, and exist.
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(report, @"\]\((gaussian/figures/[^)]+\.png)\)"))
            Assert.True(File.Exists(Path.Combine(directory, m.Groups[1].Value)), m.Groups[1].Value);

        var before = File.GetLastWriteTimeUtc(csv);
        var again = CliRunner.Run("reproduce", "--preset", "test", "--only", "gaussian", "--out", directory);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("reproduce: gaussian already finished", again.Out);
        Assert.Contains("skipping", again.Out);
        Assert.Equal(before, File.GetLastWriteTimeUtc(csv));
        Assert.Contains("(an earlier run)", File.ReadAllText(Path.Combine(directory, "REPORT.md")));
    }

    /// <summary>Keys of a tidy CSV's lines up to the metrics (cell, seed, iteration): none may repeat.</summary>
    static void AssertNoDuplicateRows(string path, int keyColumns)
    {
        var keys = File.ReadLines(path).Skip(1).Select(l => string.Join(',', l.Split(',').Take(keyColumns))).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void Killed_during_the_second_experiment_then_rerun_skips_the_first_and_resumes_the_second()
    {
        string[] args = ["reproduce", "--preset", "test", "--only", "gaussian,kde"];
        var clean = CliRunner.TemporaryDirectory();
        var first = CliRunner.Run([.. args, "--out", clean]);
        Assert.True(first.ExitCode == 0, first.Error);

        // Slow writes (fault injection) so the kill lands after gaussian finished and while kde has some cells but not all.
        var directory = CliRunner.TemporaryDirectory();
        var journal = Path.Combine(directory, "kde", "kde.csv.cells");
        bool KdeUnderWay()
        {
            try
            {
                return File.Exists(Path.Combine(directory, "reproduce.json")) && File.ReadAllText(Path.Combine(directory, "reproduce.json")).Contains("\"gaussian\"")
                       && File.Exists(journal) && File.ReadAllLines(journal).Length >= 1;
            }
            catch (IOException)
            {
                return false;
            }
        }
        using (var process = CliRunner.Start([.. args, "--out", directory], ("COLLAPSE_FAULT_WRITE_DELAY_MS", "150")))
        {
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!process.HasExited && !KdeUnderWay() && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Assert.False(process.HasExited, "the run finished before it could be killed during kde");
            process.Kill();
            process.WaitForExit();
        }
        var gaussianCsv = Path.Combine(directory, "gaussian", "gaussian.csv");
        var gaussianWritten = File.GetLastWriteTimeUtc(gaussianCsv);
        Assert.False(File.Exists(Path.Combine(directory, "kde", "kde.csv")), "kde was already finished when killed");
        Assert.False(File.Exists(Path.Combine(directory, "REPORT.md")));

        var resumed = CliRunner.Run([.. args, "--out", directory]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("reproduce: gaussian already finished", resumed.Out);
        Assert.Contains("resuming:", resumed.Out);
        Assert.Equal(gaussianWritten, File.GetLastWriteTimeUtc(gaussianCsv));
        foreach (var (experiment, keyColumns) in new[] { ("gaussian", 5), ("kde", 6) })
        {
            var csv = Path.Combine(directory, experiment, experiment + ".csv");
            Assert.Equal(File.ReadAllBytes(Path.Combine(clean, experiment, experiment + ".csv")), File.ReadAllBytes(csv));
            AssertNoDuplicateRows(csv, keyColumns);
        }
        Assert.True(File.Exists(Path.Combine(directory, "REPORT.md")));
        Assert.Contains("## kde", File.ReadAllText(Path.Combine(directory, "REPORT.md")));
    }

    [Theory]
    [InlineData(new[] { "--preset", "bogus" }, "--preset 'bogus'")]
    [InlineData(new[] { "--only", "gaussian,nope" }, "--only 'nope'")]
    [InlineData(new[] { "--only", "," }, "--only is empty")]
    [InlineData(new[] { "--accelerator", "gpu" }, "'gpu'")]
    [InlineData(new[] { "--accelerator", "cpu:5" }, "cpu:5")]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_nothing_written(string[] bad, string named)
    {
        var directory = CliRunner.TemporaryDirectory();
        List<string> args = ["reproduce", .. bad, "--out", directory];
        if (!bad.Contains("--preset")) args.AddRange(["--preset", "test"]);
        if (!bad.Contains("--only")) args.AddRange(["--only", "gaussian"]);
        CliRunner.AssertRefused([.. args], named, directory);
    }

    [Fact]
    public void A_directory_holding_another_configuration_is_refused_before_anything_runs()
    {
        var directory = CliRunner.TemporaryDirectory();
        var other = CliRunner.Run("run", "gaussian", "--dims", "2", "--samples", "5", "--seeds", "1", "--iterations", "2", "--no-figures",
            "--out", Path.Combine(directory, "gaussian"));
        Assert.True(other.ExitCode == 0, other.Error);
        var result = CliRunner.Run("reproduce", "--preset", "test", "--only", "gaussian", "--out", directory);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--force", result.Error);
        Assert.False(File.Exists(Path.Combine(directory, "REPORT.md")));
    }
}
