namespace Collapse.Tests.Cli;

public class RunRegressionCliTests
{
    static readonly string[] Small = ["--dims", "2,5", "--samples", "4,12", "--sigma-squared", "0.5,2", "--seeds", "3", "--iterations", "4", "--test-size", "50"];

    [Theory]
    [InlineData("--dims", "0", "--dims 0")]
    [InlineData("--samples", "0", "--samples 0")]
    [InlineData("--sigma-squared", "-1", "--sigma-squared -1")]
    [InlineData("--sigma-squared", "1,abc", "'abc'")]
    [InlineData("--sigma-squared", "1,1", "--sigma-squared")]
    [InlineData("--test-size", "0", "--test-size 0")]
    [InlineData("--settings", "replace,bogus", "'bogus'")]
    [InlineData("--iterations", "0", "--iterations 0")]
    [InlineData("--seeds", "0", "--seeds 0")]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string option, string value, string named) =>
        CliRunner.AssertRefused("regression", [option, value], named, ("--seeds", "1"), ("--iterations", "1"), ("--dims", "2"), ("--samples", "5"),
            ("--sigma-squared", "1"), ("--test-size", "20"));

    [Fact]
    public void A_run_writes_every_cell_row_the_manifest_and_the_figures_and_resumes_without_recomputing()
    {
        var directory = CliRunner.TemporaryDirectory();
        var first = CliRunner.Run(["run", "regression", .. Small, "--out", directory]);
        Assert.True(first.ExitCode == 0, first.Error);
        var rows = RegressionRow.ReadAll(Path.Combine(directory, "regression.csv"));
        // 3 settings × 2 d × 2 n × 2 σ² cells, each 3 seeds × 4 iterations.
        Assert.Equal(3 * 2 * 2 * 2 * 3 * 4, rows.Count);
        Assert.Equal(24, rows.Select(r => (r.Setting, r.Dim, r.N, r.NoiseVariance)).Distinct().Count());
        Assert.All(rows, r => Assert.True(double.IsFinite(r.TestMse) && r.TestMse >= 0 && r.WeightError >= 0));
        Assert.True(File.Exists(Path.Combine(directory, "manifest.json")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(directory, "figures"), "regression-*.png"));
        var csv = File.ReadAllText(Path.Combine(directory, "regression.csv"));

        var again = CliRunner.Run(["run", "regression", .. Small, "--out", directory]);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(csv, File.ReadAllText(Path.Combine(directory, "regression.csv")));
    }
}
