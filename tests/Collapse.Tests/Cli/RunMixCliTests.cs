namespace Collapse.Tests.Cli;

public class RunMixCliTests
{
    static readonly (string, string)[] Small = [("--family", "gaussian"), ("--seeds", "1"), ("--real", "10"), ("--synthetic", "0,10"), ("--generator-real", "100")];

    [Theory]
    [InlineData(new[] { "--real", "-5" }, "--real -5")]
    [InlineData(new[] { "--real", "1" }, "--real 1")]
    [InlineData(new[] { "--real", "10,ten" }, "'ten'")]
    [InlineData(new[] { "--real", "10,10" }, "twice")]
    [InlineData(new[] { "--synthetic", "-1" }, "--synthetic -1")]
    [InlineData(new[] { "--real", "200" }, "--real 200 is more than the real data available")]
    [InlineData(new[] { "--generator-real", "0" }, "--generator-real 0")]
    [InlineData(new[] { "--family", "vae" }, "'vae'")]
    [InlineData(new[] { "--family", "kde", "--dim", "3" }, "--dim applies to --family gaussian and regression only")]
    [InlineData(new[] { "--family", "gaussian", "--sigma-squared", "2" }, "--sigma-squared applies to --family regression only")]
    [InlineData(new[] { "--family", "regression", "--sigma-squared", "-2" }, "--sigma-squared -2")]
    [InlineData(new[] { "--family", "regression", "--dim", "0" }, "--dim 0")]
    [InlineData(new[] { "--family", "kde", "--generator", "truth" }, "--generator truth is only defined for --family gaussian")]
    [InlineData(new[] { "--generator", "oracle" }, "'oracle'")]
    [InlineData(new[] { "--family", "kde", "--bandwidth", "0" }, "'0'")]
    [InlineData(new[] { "--family", "kde", "--dataset", "moons,blobs" }, "--dataset takes one value")]
    [InlineData(new[] { "--seeds", "0" }, "--seeds 0")]
    [InlineData(new[] { "--dim", "0" }, "--dim 0")]
    [InlineData(new[] { "--family", "lm", "--real", "100", "--generator-real", "40000" }, "--generator-real 40000")]
    [InlineData(new[] { "--family", "lm", "--real", "40000", "--generator-real", "31033" }, "--real 40000 is more than the real data available")]
    [InlineData(new[] { "--family", "lm", "--preset", "huge" }, "'huge'")]
    [InlineData(new[] { "--family", "lm", "--test-size", "10" }, "--test-size does not apply to --family lm")]
    [InlineData(new[] { "--steps", "10" }, "--steps applies to --family lm only")]
    [InlineData(new[] { "--family", "lm", "--steps", "0" }, "--steps 0")]
    [InlineData(new[] { "--regime", "finetune" }, "--regime applies to --family lm only")]
    [InlineData(new[] { "--family", "lm", "--regime", "pretrain" }, "'pretrain'")]
    [InlineData(new[] { "--family", "lm", "--regime", "finetune", "--base-steps", "0" }, "--base-steps 0")]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string[] bad, string named) =>
        CliRunner.AssertRefused("mix", bad, named, Small);

    [Fact]
    public void A_missing_family_is_refused()
    {
        var result = CliRunner.Run(["run", "mix", "--out", CliRunner.TemporaryDirectory()]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--family", result.Error);
    }

    [Fact]
    public void A_run_writes_the_tidy_csv_and_the_manifest_and_is_deterministic()
    {
        string[] args = ["run", "mix", "--family", "kde", "--real", "10,300", "--synthetic", "0,50,300", "--generator-real", "300", "--seeds", "3", "--test-size", "50"];
        var (first, second) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        var result = CliRunner.Run([.. args, "--out", first]);
        Assert.True(result.ExitCode == 0, result.Error);
        var (header, rows) = MixRow.ReadAll(Path.Combine(first, "mix.csv"));
        Assert.Equal("family,num_real,num_synthetic,proportion_real,seed,test_metric,dataset,bandwidth", header);
        Assert.Equal(2 * 3 * 3, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.NumReal, r.NumSynthetic, r.Seed)).Distinct().Count());
        Assert.All(rows, r => Assert.True(double.IsFinite(r.TestMetric)));
        Assert.Equal("complete", RunManifest.TryLoad(Path.Combine(first, "manifest.json"))!.Status);

        Assert.Equal(0, CliRunner.Run([.. args, "--out", second, "--no-figures"]).ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "mix.csv")), File.ReadAllText(Path.Combine(second, "mix.csv")));
    }

    [Fact]
    public void Shards_merge_into_the_unsharded_csv()
    {
        string[] args = ["run", "mix", "--family", "gaussian", "--dim", "2", "--real", "10,30,100", "--synthetic", "0,40", "--generator-real", "100", "--seeds", "2", "--no-figures"];
        var whole = CliRunner.TemporaryDirectory();
        Assert.Equal(0, CliRunner.Run([.. args, "--out", whole]).ExitCode);
        var shards = new[] { CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory() };
        for (var k = 0; k < 2; k++)
        {
            var run = CliRunner.Run([.. args, "--shard", $"{k}/2", "--out", shards[k]]);
            Assert.True(run.ExitCode == 0, run.Error);
        }
        var merged = CliRunner.TemporaryDirectory();
        var merge = CliRunner.Run(["merge", .. shards, "--out", merged]);
        Assert.True(merge.ExitCode == 0, merge.Error);
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "mix.csv")), File.ReadAllText(Path.Combine(merged, "mix.csv")));
    }
}
