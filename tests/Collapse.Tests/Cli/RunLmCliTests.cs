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
        { ["--regime", "pretrain"], "'pretrain'" },
        { ["--regime", "finetune,finetune"], "twice" },
        { ["--base-steps", "0"], "--base-steps 0" },
        { ["--finetune-lr", "0", "--regime", "finetune"], "--finetune-lr 0" },
        { ["--finetune-warmup", "-1", "--regime", "finetune"], "--finetune-warmup -1" },
        { ["--regime", "finetune", "--corpus", Corpus("anna", "bob", "carl", "dave", "emma", "finn", "gus", "hal", "ida", "jon", "kim", "lea")], "lacks the letters" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_a_one_line_error_with_exit_code_2_and_no_output(string[] bad, string named) =>
        CliRunner.AssertRefused("lm", bad, named, ("--seeds", "1"), ("--iterations", "1"), ("--train-size", "8"), ("--steps", "1"));

    [Fact]
    public void A_fine_tuning_run_writes_its_regime_and_starts_every_fit_from_one_cached_base()
    {
        var (first, second) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        string[] args = [.. Small, "--regime", "scratch,finetune", "--base-steps", "60", "--settings", "replace"];
        var result = CliRunner.Run(["run", "lm", .. args, "--out", first, "--no-figures"]);
        Assert.True(result.ExitCode == 0, result.Error);
        var rows = LmRow.ReadAll(Path.Combine(first, "lm.csv"));
        Assert.Equal(2 * 2 * 2, rows.Count);
        Assert.Equal([LmRegime.Scratch, LmRegime.Finetune], rows.Select(r => r.Regime).Distinct());
        Assert.StartsWith(LmRow.Header, File.ReadLines(Path.Combine(first, "lm.csv")).First());
        // Three steps on 24 names barely move random weights; from the base the fit starts where 60 steps of words left it.
        double Loss(LmRegime regime) => rows.Where(r => r.Regime == regime && r.Iteration == 1).Average(r => r.TestLoss);
        Assert.True(Loss(LmRegime.Finetune) < Loss(LmRegime.Scratch) - 0.1, $"iteration 1 test loss: finetune {Loss(LmRegime.Finetune)}, scratch {Loss(LmRegime.Scratch)}");
        Assert.True(File.Exists(Path.Combine(first, "names", "tiny-replace-finetune.txt")));
        Assert.Contains("before fine-tuning", result.Out + result.Error);

        // The second run reads the base back and writes the same rows.
        var again = CliRunner.Run(["run", "lm", .. args, "--out", second, "--no-figures"]);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("from the cache", again.Out + again.Error);
        Assert.Equal(File.ReadAllText(Path.Combine(first, "lm.csv")), File.ReadAllText(Path.Combine(second, "lm.csv")));
    }

    [Fact]
    public void An_lm_csv_from_before_the_regime_column_reads_as_every_fit_from_scratch()
    {
        var path = Path.Combine(CliRunner.TemporaryDirectory() + "-legacy-lm.csv");
        File.WriteAllLines(path, [LmRow.HeaderWithoutRegime, "tiny,replace,0,1,24,3,3.25,3.2,0.9,6.1"]);
        var row = Assert.Single(LmRow.ReadAll(path));
        Assert.Equal(LmRegime.Scratch, row.Regime);
        Assert.Equal(("tiny", 3.25), (row.Preset, row.TestLoss));
        File.WriteAllLines(path, [LmRow.Header, row.ToCsv()]);
        Assert.Equal(row, Assert.Single(LmRow.ReadAll(path)));
    }

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
