namespace Collapse.Tests.Cli;

public class RunGaussianCliTests
{
    static readonly string[] Small = ["--dims", "2,4", "--samples", "5,12", "--seeds", "3", "--iterations", "4"];

    [Theory]
    [InlineData("--dims", "0", "--dims 0")]
    [InlineData("--samples", "1", "--samples 1")]
    [InlineData("--settings", "replace,bogus", "'bogus'")]
    [InlineData("--iterations", "-3", "--iterations -3")]
    [InlineData("--seeds", "0", "--seeds 0")]
    [InlineData("--method", "exact", "'exact'")]
    [InlineData("--accelerator", "gpu", "'gpu'")]
    [InlineData("--dims", "3,x", "'x'")]
    [InlineData("--seeds", "60000000", "--seeds 60000000")]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string option, string value, string named) =>
        // Keep the run tiny should the bad value be accepted: small defaults for every option but the one under test.
        CliRunner.AssertRefused("gaussian", [option, value], named, ("--seeds", "1"), ("--iterations", "1"), ("--dims", "2"), ("--samples", "5"));

    [Fact]
    public void A_cell_too_large_for_memory_is_refused_before_anything_is_written()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "gaussian", "--dims", "100", "--samples", "10000000", "--seeds", "1", "--iterations", "2", "--out", directory]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("d=100 n=10000000", result.Error);
        // It says how much it estimated and what would fit instead.
        var largest = System.Text.RegularExpressions.Regex.Match(result.Error, @"estimated ([0-9.]+) GB .* the largest --samples that fits with these settings is (\d+)");
        Assert.True(largest.Success, result.Error);
        Assert.InRange(long.Parse(largest.Groups[2].Value), 1000, 9_999_999);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void An_unwritable_out_directory_is_refused()
    {
        var file = Path.GetTempFileName();
        var result = CliRunner.Run(["run", "gaussian", .. Small, "--out", Path.Combine(file, "sub")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--out", result.Error);
        Assert.Contains("not writable", result.Error);
    }

    [Fact]
    public void Absent_accelerator_is_an_error_not_a_fallback()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "gaussian", .. Small, "--accelerator", "cpu:5", "--out", directory]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cpu:5", result.Error);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void A_manifest_left_without_its_csv_does_not_lend_its_start_or_time_to_the_run_that_recomputes_it()
    {
        // The committed-results situation: results/reproduce/*/manifest.json is committed, its CSV is not.
        var directory = CliRunner.TemporaryDirectory();
        Assert.Equal(0, CliRunner.Run(["run", "gaussian", .. Small, "--no-figures", "--out", directory]).ExitCode);
        var path = Path.Combine(directory, "manifest.json");
        var committed = RunManifest.TryLoad(path)!;
        Assert.Equal(12, committed.CellSeconds.Count);
        Assert.Equal(committed.WallSecondsPerSetting.Values.Sum(), committed.CellSeconds.Values.Sum(), 1e-3);
        committed.StartedUtc = DateTime.UtcNow.AddDays(-5);
        committed.WallSeconds = 1000;
        committed.WallSecondsPerSetting = committed.WallSecondsPerSetting.ToDictionary(p => p.Key, _ => 333.0);
        committed.Save(path);
        File.Delete(Path.Combine(directory, "gaussian.csv"));

        var started = DateTime.UtcNow;
        var rerun = CliRunner.Run(["run", "gaussian", .. Small, "--no-figures", "--out", directory]);
        Assert.True(rerun.ExitCode == 0, rerun.Error + rerun.Out);
        var fresh = RunManifest.TryLoad(path)!;
        Assert.Equal("complete", fresh.Status);
        Assert.True(fresh.StartedUtc >= started.AddSeconds(-1), $"started {fresh.StartedUtc:O}, the rerun began {started:O}");
        Assert.True(fresh.WallSeconds < 100, $"wall {fresh.WallSeconds} s");
        Assert.All(fresh.WallSecondsPerSetting.Values, v => Assert.True(v < 100, $"{v} s"));
    }

    [Fact]
    public void A_run_writes_csv_manifest_and_figures_and_plot_redraws_them()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "gaussian", .. Small, "--out", directory]);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        var rows = GaussianRow.ReadAll(Path.Combine(directory, "gaussian.csv"));
        Assert.Equal(3 * 2 * 2 * 3 * 4, rows.Count);
        Assert.Equal(File.ReadAllLines(Path.Combine(directory, "gaussian.csv")).Skip(1), rows.Select(r => r.ToCsv()));
        var manifest = RunManifest.TryLoad(Path.Combine(directory, "manifest.json"))!;
        Assert.Equal("complete", manifest.Status);
        Assert.Equal(12, manifest.CellsCompleted);
        Assert.Equal(3, manifest.WallSecondsPerSetting.Count);
        var figures = Directory.GetFiles(Path.Combine(directory, "figures"), "*.png");
        Assert.NotEmpty(figures);

        foreach (var f in figures) File.Delete(f);
        var plot = CliRunner.Run(["plot", Path.Combine(directory, "gaussian.csv")]);
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.Equal(figures.Order(), Directory.GetFiles(Path.Combine(directory, "figures"), "*.png").Order());
    }

    [Fact]
    public void The_same_run_twice_gives_identical_csv()
    {
        var first = CliRunner.TemporaryDirectory();
        var second = CliRunner.TemporaryDirectory();
        Assert.Equal(0, CliRunner.Run(["run", "gaussian", .. Small, "--out", first, "--no-figures"]).ExitCode);
        Assert.Equal(0, CliRunner.Run(["run", "gaussian", .. Small, "--out", second, "--no-figures"]).ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "gaussian.csv")), File.ReadAllText(Path.Combine(second, "gaussian.csv")));
    }

    static Engine.Results.RunManifest Execute(ComputeDevice device, GaussianSweepConfig config, string directory,
        IProgress<SweepProgress>? progress, CancellationToken cancellation)
    {
        using var sweep = new GaussianSweep(device, config);
        return SweepRun.Execute(device, sweep, directory, false, "test", progress, cancellation);
    }

    [Fact]
    public void An_interrupted_sweep_keeps_finished_cells_and_resumes_without_duplicates()
    {
        var config = new GaussianSweepConfig { Dims = [2, 3], Samples = [6, 9], Seeds = 3, Iterations = 3 };
        var device = TestDevices.Get("cpu");
        var clean = CliRunner.TemporaryDirectory();
        Execute(device, config, clean, null, CancellationToken.None);

        var interrupted = CliRunner.TemporaryDirectory();
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAfterCells(cancel, cells: 5);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Execute(device, config, interrupted, progress, cancel.Token));
        Assert.False(File.Exists(Path.Combine(interrupted, "gaussian.csv")), "an unfinished sweep must not look like a result");
        var partial = File.ReadAllLines(Path.Combine(interrupted, "gaussian.csv.partial"));
        Assert.Equal(1 + 5 * 3 * 3, partial.Length);

        var resumed = Execute(device, config, interrupted, null, CancellationToken.None);
        Assert.Equal("complete", resumed.Status);
        Assert.Equal(File.ReadAllLines(Path.Combine(clean, "gaussian.csv")).Order(),
            File.ReadAllLines(Path.Combine(interrupted, "gaussian.csv")).Order());
    }

    [Fact]
    public void A_directory_holding_another_run_is_not_overwritten_by_accident()
    {
        var directory = CliRunner.TemporaryDirectory();
        Assert.Equal(0, CliRunner.Run(["run", "gaussian", .. Small, "--out", directory, "--no-figures"]).ExitCode);
        var before = File.ReadAllText(Path.Combine(directory, "gaussian.csv"));
        var other = CliRunner.Run(["run", "gaussian", "--dims", "3", "--samples", "5", "--seeds", "2", "--iterations", "2", "--out", directory, "--no-figures"]);
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("--force", other.Error);
        // It says what differs, so the user can tell a typo from a different experiment.
        Assert.Contains("dims: [2,4] there, [3] here", other.Error);
        Assert.Contains("seeds: 3 there, 2 here", other.Error);
        Assert.Equal(before, File.ReadAllText(Path.Combine(directory, "gaussian.csv")));
    }

    /// <summary>Cancels once the sweep reports that a number of cells finished (like Ctrl-C mid-run).</summary>
    sealed class CancelAfterCells(CancellationTokenSource source, int cells) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value)
        {
            if (value.CellsDone >= cells) source.Cancel();
        }
    }
}
