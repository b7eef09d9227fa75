namespace Collapse.Tests.Cli;

public class RunLmCliTests
{
    /// <summary>A run of a few seconds: a small model, 24 real names per seed, 2 seeds, 2 iterations, every setting.</summary>
    static readonly string[] Small = ["--preset", "tiny", "--layers", "1", "--width", "16", "--heads", "2", "--batch", "8",
        "--train-size", "24", "--seeds", "2", "--iterations", "2"];

    static string Corpus(params string[] lines)
    {
        var path = Path.Combine(CliRunner.TemporaryDirectory() + "-corpus.txt");
        File.WriteAllLines(path, lines);
        return path;
    }

    public static TheoryData<string[], string> BadInputs() => new()
    {
        { ["--preset", "huge"], "'huge'" },
        { ["--preset", "tiny,tiny"], "twice" },
        { ["--width", "30", "--heads", "4"], "--width 30 is not divisible by --heads 4" },
        { ["--corpus", Corpus("", "   ", "")], "is empty" },
        { ["--corpus", Corpus("anna", "bob", "", "christopher", "dave"), "--block-size", "8"], "line 4 has 11 characters" },
        { ["--corpus", Corpus("anna")], "need at least 2" },
        { ["--corpus", "/nonexistent/names.txt"], "cannot be read" },
        { ["--block-size", "8"], "longer than the block size allows (7)" },
        { ["--train-size", "0"], "--train-size 0" },
        { ["--train-size", "31034"], "--train-size 31034" },
        { ["--steps", "0"], "--steps 0" },
        { ["--lr", "-1"], "--lr -1" },
        { ["--settings", "mix"], "'mix'" },
        { ["--seeds", "0"], "--seeds 0" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string[] bad, string named) =>
        CliRunner.AssertRefused("lm", bad, named, ("--seeds", "1"), ("--iterations", "1"), ("--train-size", "8"), ("--steps", "1"));

    [Fact]
    public void A_run_writes_the_tidy_csv_the_manifest_the_names_and_the_figure_and_is_deterministic()
    {
        var (first, second) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        var result = CliRunner.Run(["run", "lm", .. Small, "--out", first]);
        Assert.True(result.ExitCode == 0, result.Error);
        var rows = LmRow.ReadAll(Path.Combine(first, "lm.csv"));
        // 3 settings × 2 seeds × 2 iterations, each once.
        Assert.Equal(3 * 2 * 2, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Preset, r.Setting, r.Seed, r.Iteration)).Distinct().Count());
        Assert.All(rows, r => Assert.Null(r.NonFinite()));
        Assert.All(rows, r => Assert.Equal(r.Setting == Engine.Scenarios.Setting.Accumulate ? 24 * r.Iteration : 24, r.TrainExamples));
        Assert.All(rows, r => Assert.Equal((r.TrainExamples + 7) / 8, r.Steps));
        Assert.All(rows, r => Assert.InRange(r.UniqueFraction, 1.0 / 24, 1.0));
        Assert.Equal("complete", RunManifest.TryLoad(Path.Combine(first, "manifest.json"))!.Status);
        Assert.True(File.Exists(Path.Combine(first, "figures", "lm-test-loss.png")));
        var names = File.ReadAllLines(Path.Combine(first, "names", "tiny-replace.txt"));
        Assert.Equal(1 + 3 * (1 + 20), names.Length);
        Assert.Equal(["real", "iteration 1", "iteration 2"], names.Where(l => !l.StartsWith(' ') && !l.StartsWith('#')));

        Assert.Equal(0, CliRunner.Run(["run", "lm", .. Small, "--out", second, "--no-figures"]).ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "lm.csv")), File.ReadAllText(Path.Combine(second, "lm.csv")));
        Assert.Equal(names, File.ReadAllLines(Path.Combine(second, "names", "tiny-replace.txt")));

        // The figure can be redrawn from the CSV alone.
        var redrawn = Path.Combine(CliRunner.TemporaryDirectory(), "figures");
        var plot = CliRunner.Run(["plot", Path.Combine(second, "lm.csv"), "--out", redrawn]);
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.True(File.Exists(Path.Combine(redrawn, "lm-test-loss.png")));
    }

    [Fact]
    public void A_corpus_file_brings_its_own_vocabulary_and_presets_are_a_grid_axis()
    {
        var corpus = Corpus([.. Enumerable.Range(0, 60).Select(i => $"wörd{i % 7}-{(char)('a' + i % 5)}")]);
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "lm", "--corpus", corpus, "--preset", "tiny,makemore", "--layers", "1", "--width", "8", "--heads", "2",
            "--settings", "replace", "--seeds", "1", "--iterations", "2", "--steps", "3", "--out", directory]);
        Assert.True(result.ExitCode == 0, result.Error);
        var rows = LmRow.ReadAll(Path.Combine(directory, "lm.csv"));
        Assert.Equal(["makemore", "tiny"], rows.Select(r => r.Preset).Distinct().Order());
        // 60 lines: 6 held out (10%), 54 to train on; a fixed step count.
        Assert.All(rows, r => Assert.Equal((54, 3), (r.TrainExamples, r.Steps)));
        var manifest = File.ReadAllText(Path.Combine(directory, "manifest.json"));
        Assert.Contains("\"test_documents\": 6", manifest);
        Assert.Contains("\"vocabulary\": 17", manifest);
    }

    [Fact]
    public void Shards_merge_into_the_unsharded_csv()
    {
        var (whole, a, b, merged) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        string[] args = ["run", "lm", .. Small[..^2], "--iterations", "1", "--no-figures"];
        Assert.Equal(0, CliRunner.Run([.. args, "--out", whole]).ExitCode);
        Assert.Equal(0, CliRunner.Run([.. args, "--shard", "0/2", "--out", a]).ExitCode);
        Assert.Equal(0, CliRunner.Run([.. args, "--shard", "1/2", "--out", b]).ExitCode);
        var merge = CliRunner.Run(["merge", a, b, "--out", merged]);
        Assert.True(merge.ExitCode == 0, merge.Error);
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "lm.csv")), File.ReadAllText(Path.Combine(merged, "lm.csv")));
    }
}
