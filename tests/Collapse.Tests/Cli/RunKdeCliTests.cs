namespace Collapse.Tests.Cli;

public class RunKdeCliTests
{
    static readonly string[] Small = ["--datasets", "moons,swiss-roll", "--bandwidths", "0.5,scott", "--samples", "8,20", "--seeds", "3",
        "--iterations", "4", "--test-size", "25"];

    [Theory]
    [InlineData("--datasets", "blobs,spirals", "'spirals'")]
    [InlineData("--bandwidths", "0", "'0'")]
    [InlineData("--bandwidths", "-0.5", "'-0.5'")]
    [InlineData("--bandwidths", "0.1,wide", "'wide'")]
    [InlineData("--test-size", "0", "--test-size 0")]
    [InlineData("--samples", "0", "--samples 0")]
    [InlineData("--settings", "mix", "'mix'")]
    [InlineData("--seeds", "-1", "--seeds -1")]
    [InlineData("--datasets", "moons,moons", "twice")]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string option, string value, string named) =>
        CliRunner.AssertRefused("kde", [option, value], named,
            ("--seeds", "1"), ("--iterations", "1"), ("--datasets", "moons"), ("--samples", "5"), ("--bandwidths", "0.5"));

    [Fact]
    public void A_run_writes_the_tidy_csv_the_manifest_and_the_figures_and_is_deterministic()
    {
        var (first, second) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        var result = CliRunner.Run(["run", "kde", .. Small, "--out", first]);
        Assert.True(result.ExitCode == 0, result.Error);
        var rows = KdeRow.ReadAll(Path.Combine(first, "kde.csv"));
        // 2 datasets × 2 bandwidths × 3 settings × 2 n × 3 seeds × 4 iterations, each once.
        Assert.Equal(2 * 2 * 3 * 2 * 3 * 4, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Dataset, r.Bandwidth, r.Setting, r.N, r.Seed, r.Iteration)).Distinct().Count());
        Assert.All(rows, r => Assert.True(double.IsFinite(r.NllTest)));
        Assert.Equal("complete", RunManifest.TryLoad(Path.Combine(first, "manifest.json"))!.Status);
        var figures = Directory.GetFiles(Path.Combine(first, "figures"), "*.png").Select(Path.GetFileName).ToList();
        Assert.Contains("kde-nll-h0.5.png", figures);
        Assert.Contains("kde-nll-hscott.png", figures);
        Assert.Contains("kde-samples-swiss-roll-h0.5.png", figures);
        Assert.Equal(2 + 2 * 2, figures.Count);

        Assert.Equal(0, CliRunner.Run(["run", "kde", .. Small, "--out", second, "--no-figures"]).ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "kde.csv")), File.ReadAllText(Path.Combine(second, "kde.csv")));
    }

    [Fact]
    public void A_nan_metric_stops_the_sweep_naming_cell_seed_and_iteration_unless_allowed()
    {
        // h = 1e-200: 1/(2h²) overflows, every kernel value is −∞ · 0 or −∞ − (−∞): NaN.
        string[] args = ["run", "kde", "--datasets", "moons", "--bandwidths", "0.5,1e-200", "--samples", "5", "--seeds", "2",
            "--iterations", "2", "--no-figures"];
        var directory = CliRunner.TemporaryDirectory();
        var stopped = CliRunner.Run([.. args, "--out", directory]);
        Assert.Equal(3, stopped.ExitCode);
        Assert.Contains("cell replace moons h=1E-200 n=5, seed 0, iteration 1: nll_test is NaN", stopped.Error);
        Assert.DoesNotContain("   at ", stopped.Error);
        // The finished cell (h = 0.5) is kept; nothing of the failed one is.
        var kept = File.ReadAllLines(Path.Combine(directory, "kde.csv.partial"));
        Assert.Equal(1 + 2 * 2, kept.Length);
        Assert.All(kept.Skip(1), line => Assert.StartsWith("moons,0.5,replace,5,", line));

        var allowed = CliRunner.Run([.. args, "--out", CliRunner.TemporaryDirectory(), "--allow-nonfinite"]);
        Assert.True(allowed.ExitCode == 0, allowed.Error);
    }

    [Fact]
    public void A_pool_too_large_for_memory_is_refused_with_what_would_fit()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "kde", "--datasets", "moons", "--bandwidths", "0.5", "--samples", "50000000", "--iterations", "40",
            "--seeds", "1", "--out", directory]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cell accumulate moons h=0.5 n=50000000 needs an estimated", result.Error);
        Assert.Contains("the largest --samples that fits with these settings is", result.Error);
        Assert.False(Directory.Exists(directory));
    }
}
