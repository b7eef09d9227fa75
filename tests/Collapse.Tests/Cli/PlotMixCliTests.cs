namespace Collapse.Tests.Cli;

public class PlotMixCliTests
{
    const string Header = "family,num_real,num_synthetic,proportion_real,seed,test_metric,dataset,bandwidth";

    /// <summary>A kde mix.csv written by hand: at num_real 10 synthetic data helps (−0.5), at 1,000 it hurts (+0.2).</summary>
    static string HandWritten()
    {
        var lines = new List<string> { Header };
        foreach (var real in new[] { 10, 1000 })
            foreach (var synthetic in new[] { 0, 100, 1000 })
                for (var seed = 0; seed < 4; seed++)
                {
                    var value = (real == 10 ? 2.0 : 0.8) + 0.1 * seed
                        + (synthetic == 0 ? 0 : (real == 10 ? -0.5 : 0.2) + (seed % 2 == 0 ? 0.01 : -0.01));
                    var proportion = (double)real / (real + synthetic);
                    lines.Add(FormattableString.Invariant($"kde,{real},{synthetic},{proportion:R},{seed},{value:R},moons,0.1"));
                }
        var directory = CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "mix.csv"), lines);
        return directory;
    }

    [Fact]
    public void Plot_redraws_both_figures_into_figures_and_summary_md_beside_the_csv()
    {
        var directory = HandWritten();
        var result = CliRunner.Run(["plot", Path.Combine(directory, "mix.csv")]);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        Assert.Equal(["mix-heatmap.png", "mix-proportion.png"], Directory.GetFiles(Path.Combine(directory, "figures")).Select(Path.GetFileName).Order());
        Assert.Contains("mix-heatmap.png", result.Out);
        Assert.Contains("summary.md", result.Out);
        var summary = File.ReadAllText(Path.Combine(directory, MixSummary.FileName));
        Assert.StartsWith("# Value of synthetic data: KDE, moons, h = 0.1\n", summary);
        Assert.Contains("- num_real = 10: synthetic data helped at every count tested (from 100): test NLL 2.150 → 1.650 at ", summary);
        Assert.Contains("- num_real = 1,000: synthetic data hurt at every count tested (from 100): ", summary);
        Assert.Contains("**Overall:** the paper's pattern holds:", summary);
    }

    [Fact]
    public void Plot_out_moves_the_figures_but_the_summary_stays_beside_the_csv()
    {
        var directory = HandWritten();
        var elsewhere = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["plot", Path.Combine(directory, "mix.csv"), "--out", elsewhere]);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        Assert.Equal(2, Directory.GetFiles(elsewhere, "*.png").Length);
        Assert.False(Directory.Exists(Path.Combine(directory, "figures")));
        Assert.True(File.Exists(Path.Combine(directory, "summary.md")));
    }

    [Theory]
    [InlineData("kde,10,0,1,0,not-a-number,moons,0.1", "line 2")]
    [InlineData("kde,10,0,1,0,2.0,moons", "line 2: expected 8 columns")]
    [InlineData("kde,10,-5,1,0,2.0,moons,0.1", "num_synthetic -5")]
    [InlineData("kde,0,5,0,0,2.0,moons,0.1", "num_real 0")]
    [InlineData("gaussian,10,0,1,0,2.0,moons,0.1", "several families")]
    public void A_malformed_mix_csv_is_a_one_line_error_with_exit_code_2_and_nothing_written(string badLine, string named)
    {
        var directory = HandWritten();
        var csv = Path.Combine(directory, "mix.csv");
        var lines = File.ReadAllLines(csv).ToList();
        lines.Insert(1, badLine);
        File.WriteAllLines(csv, lines);
        AssertRefused(csv, named);
        Assert.False(Directory.Exists(Path.Combine(directory, "figures")));
        Assert.False(File.Exists(Path.Combine(directory, "summary.md")));
    }

    [Fact]
    public void A_mix_csv_with_a_damaged_header_names_the_header_mix_csv_needs()
    {
        var directory = HandWritten();
        var csv = Path.Combine(directory, "mix.csv");
        var lines = File.ReadAllLines(csv);
        lines[0] = "famly,num_real,num_synthetic,proportion_real,seed,test_metric,dataset,bandwidth";
        File.WriteAllLines(csv, lines);
        AssertRefused(csv, "expected one beginning 'family,num_real,num_synthetic,proportion_real,seed,test_metric'");
    }

    static void AssertRefused(string csv, string named)
    {
        var result = CliRunner.Run(["plot", csv]);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: plot: ", lines[0]);
        Assert.Contains("mix.csv", lines[0]);
        Assert.Contains(named, lines[0]);
    }

    [Fact]
    public void Run_mix_writes_the_figures_and_summary_md_too()
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run(["run", "mix", "--family", "gaussian", "--dim", "2", "--real", "10,100", "--synthetic", "0,40",
            "--generator-real", "100", "--seeds", "3", "--out", directory]);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        Assert.Equal(["mix-heatmap.png", "mix-proportion.png"], Directory.GetFiles(Path.Combine(directory, "figures")).Select(Path.GetFileName).Order());
        var summary = File.ReadAllText(Path.Combine(directory, "summary.md"));
        Assert.StartsWith("# Value of synthetic data: Gaussian, d = 2\n", summary);
        Assert.Contains("Run: `collapse run mix --family gaussian", summary);
        Assert.Contains("- num_real = 10: ", summary);
        Assert.Contains("- num_real = 100: ", summary);
    }
}
