namespace Collapse.Tests.Reports;

public class MixSummaryTests
{
    static readonly int[] Synthetic = [0, 32, 100, 1000, 10000];

    /// <summary>The paper's pattern on a grid: help at num_real 10 and 100, mixed at 1,000, hurt from 3,162 on at 10,000.</summary>
    static List<MixRow> Paper() => MixGrid.Build("gaussian", [10, 100, 1000, 10000], Synthetic, seeds: 10,
        baseline: real => real switch { 10 => 9.0, 100 => 7.5, 1000 => 7.2, _ => 7.1 },
        effect: (real, s) => real switch
        {
            10 => -1.5 - s / 10000.0,
            100 => -0.3,
            1000 => s <= 100 ? -0.2 : 0.4,
            _ => s < 1000 ? 0 : 0.25,
        }, extra: ["5"]);

    static MixFinding Finding(MixDescription d, int real) => d.Findings.Single(f => f.NumReal == real);

    [Fact]
    public void Helped_at_every_count_names_the_first_count_the_best_point_and_the_paired_difference()
    {
        var d = MixSummary.Describe(Paper(), MixRow.Header(["dim"]));
        var f = Finding(d, 10);
        Assert.Equal(MixVerdict.Helped, f.Verdict);
        Assert.Equal(10, f.Seeds);
        // Baseline 9 + 0.05·4.5 = 9.225; best at 10,000: −1.5 − 1 = −2.5, se 0.01·√(10/9)/√10 ≈ 0.0033 → 3 decimals.
        Assert.Equal("num_real = 10: synthetic data helped at every count tested (from 32): test NLL 9.225 → 6.725 at 10,000 synthetic (−2.500 ± 0.003, 10 seeds)", f.Sentence);
        Assert.Equal(4, f.Effects.Count);
    }

    [Fact]
    public void Hurt_from_a_count_on_and_helped_then_hurt_read_as_ranges()
    {
        var d = MixSummary.Describe(Paper());
        var hurt = Finding(d, 10000);
        Assert.Equal(MixVerdict.Hurt, hurt.Verdict);
        Assert.StartsWith("num_real = 10,000: synthetic data hurt from 1,000 on: test NLL 7.325 → 7.575 at ", hurt.Sentence);
        Assert.Contains("(+0.250 ± 0.003, 10 seeds)", hurt.Sentence);

        var mixed = Finding(d, 1000);
        Assert.Equal(MixVerdict.Mixed, mixed.Verdict);
        Assert.StartsWith("num_real = 1,000: synthetic data helped up to 100, hurt from 1,000 on: ", mixed.Sentence);
        Assert.Contains("(−0.200 ± 0.003) at best", mixed.Sentence);
        Assert.Contains("(+0.400 ± 0.003) at worst", mixed.Sentence);
    }

    [Fact]
    public void The_paper_pattern_is_stated_from_the_data()
    {
        var d = MixSummary.Describe(Paper());
        Assert.True(d.PatternHolds);
        Assert.Equal("the paper's pattern holds: synthetic data helped with less real data (num_real 10, 100 and 1,000) and hurt with more (num_real 1,000 and 10,000).", d.Overall);
    }

    [Fact]
    public void Help_everywhere_or_help_only_at_large_num_real_is_not_the_paper_pattern()
    {
        var always = MixSummary.Describe(MixGrid.Build("lm", [100, 1000], [0, 1000], seeds: 4, baseline: _ => 3, effect: (_, _) => -0.2));
        Assert.False(always.PatternHolds);
        Assert.Contains("helped at num_real 100 and 1,000 and hurt at no num_real tested", always.Overall);

        var reversed = MixSummary.Describe(MixGrid.Build("lm", [100, 1000], [0, 1000], seeds: 4, baseline: _ => 3, effect: (real, _) => real == 100 ? 0.2 : -0.2));
        Assert.False(reversed.PatternHolds);
        Assert.StartsWith("the paper's pattern does not hold: synthetic data hurt at num_real = 100 but helped at num_real = 1,000", reversed.Overall);
    }

    [Fact]
    public void No_significant_change_and_one_seed_say_so()
    {
        var noise = MixSummary.Describe(MixGrid.Build("kde", [316], [0, 32, 1000], seeds: 6, baseline: _ => 0.8, effect: (_, _) => 0, jitter: 0.1));
        var f = Assert.Single(noise.Findings);
        Assert.Equal(MixVerdict.NoSignificantChange, f.Verdict);
        Assert.StartsWith("num_real = 316: no significant change at any count tested (32 to 1,000): test NLL ", f.Sentence);
        Assert.False(noise.PatternHolds);
        Assert.Contains("no significant difference at any num_real", noise.Overall);

        var single = MixSummary.Describe(MixGrid.Build("lm", [100], [0, 1000], seeds: 1, baseline: _ => 3, effect: (_, _) => -0.5));
        var s = Assert.Single(single.Findings);
        Assert.Equal(MixVerdict.Inconclusive, s.Verdict);
        Assert.StartsWith("num_real = 100: inconclusive: 1 seed (test loss ", s.Sentence);
        Assert.Null(single.PatternHolds);
        Assert.StartsWith("the paper's pattern cannot be judged", single.Overall);
    }

    [Fact]
    public void A_num_real_without_baseline_or_without_synthetic_counts_is_reported_not_dropped()
    {
        var rows = MixGrid.Build("gaussian", [10, 100, 1000], [0, 32], seeds: 4, baseline: _ => 7, effect: (_, _) => -1);
        rows.RemoveAll(r => r.NumReal == 100 && r.NumSynthetic == 0 || r.NumReal == 1000 && r.NumSynthetic > 0);
        var d = MixSummary.Describe(rows);
        Assert.Equal([MixVerdict.Helped, MixVerdict.NoBaseline, MixVerdict.NoSyntheticTested], d.Findings.Select(f => f.Verdict));
        Assert.Equal("num_real = 100: no rows with num_synthetic = 0, so nothing to compare with", d.Findings[1].Sentence);
        Assert.StartsWith("num_real = 1,000: only num_synthetic = 0 was run", d.Findings[2].Sentence);
    }

    [Fact]
    public void Helped_at_only_some_counts_names_where()
    {
        var rows = MixGrid.Build("gaussian", [100], [0, 32, 100, 316, 1000], seeds: 4, baseline: _ => 7,
            effect: (_, s) => s == 1000 ? -0.5 : 0, jitter: 0.01);
        Assert.Contains("helped only at the largest count, 1,000:", Assert.Single(MixSummary.Describe(rows).Findings).Sentence);
        rows = MixGrid.Build("gaussian", [100], [0, 32, 100, 316, 1000], seeds: 4, baseline: _ => 7,
            effect: (_, s) => s is 100 or 316 ? -0.5 : 0, jitter: 0.01);
        Assert.Contains("helped from 100 to 316:", Assert.Single(MixSummary.Describe(rows).Findings).Sentence);
        rows = MixGrid.Build("gaussian", [100], [0, 32, 100, 316, 1000], seeds: 4, baseline: _ => 7,
            effect: (_, s) => s is 32 or 316 ? -0.5 : 0, jitter: 0.01);
        Assert.Contains("helped at 32 and 316:", Assert.Single(MixSummary.Describe(rows).Findings).Sentence);
    }

    [Fact]
    public void Titles_name_the_family_and_its_fixed_settings()
    {
        Assert.Equal("Gaussian, d = 5", MixSummary.Describe(Paper(), MixRow.Header(["dim"])).Title);
        var kde = MixGrid.Build("kde", [10], [0, 32], seeds: 2, baseline: _ => 1, effect: (_, _) => 0, extra: ["moons", "0.1"]);
        Assert.Equal("KDE, moons, h = 0.1", MixSummary.Title(MixRow.Header(["dataset", "bandwidth"]), kde));
        var lm = MixGrid.Build("lm", [10], [0, 32], seeds: 2, baseline: _ => 1, effect: (_, _) => 0, extra: ["tiny", "2.1", "1000"]);
        Assert.Equal("language model, preset tiny, 1,000 steps per fit", MixSummary.Title(MixRow.Header(["preset", "train_loss", "steps"]), lm));
        Assert.Equal("test loss", MixSummary.Describe(lm).MetricName);
        Assert.Equal("Gaussian", MixSummary.Title(null, Paper()));
    }

    [Fact]
    public void Rows_of_two_families_are_refused()
    {
        var rows = MixGrid.Build("gaussian", [10], [0, 32], seeds: 2, baseline: _ => 7, effect: (_, _) => -1)
            .Concat(MixGrid.Build("kde", [10], [0, 32], seeds: 2, baseline: _ => 1, effect: (_, _) => -1)).ToList();
        Assert.Contains("gaussian, kde", Assert.Throws<ArgumentException>(() => MixSummary.Describe(rows)).Message);
    }

    [Fact]
    public void The_markdown_has_the_title_run_line_findings_overall_and_a_table_marking_effects()
    {
        var md = MixSummary.Markdown(Paper(), MixRow.Header(["dim"]), "Run: `collapse run mix --family gaussian`.");
        var lines = md.Split('\n');
        Assert.Equal("# Value of synthetic data: Gaussian, d = 5", lines[0]);
        Assert.Equal("Run: `collapse run mix --family gaussian`.", lines[2]);
        Assert.Contains("- num_real = 10: synthetic data helped at every count tested (from 32):", md);
        Assert.Contains("**Overall:** the paper's pattern holds:", md);
        Assert.Contains("| num_real \\ num_synthetic | 0 | 32 | 100 | 1,000 | 10,000 |", md);
        // num_real = 10,000: baseline 7.325; +0 at 32 and 100 (no change); +0.25 from 1,000 (hurt).
        Assert.Contains("| 10,000 | 7.325 | 7.325 | 7.325 | 7.575 ↑ | 7.575 ↑ |", md);
        Assert.Contains("| 100 | 7.725 | 7.425 ↓ | 7.425 ↓ | 7.425 ↓ | 7.425 ↓ |", md);
        Assert.Equal(1 + 4, lines.Count(l => l.StartsWith("| ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Write_puts_summary_md_in_the_directory_and_no_rows_is_said_plainly()
    {
        var directory = Cli.CliRunner.TemporaryDirectory();
        var path = MixSummary.Write(directory, Paper(), MixRow.Header(["dim"]));
        Assert.Equal(Path.Combine(directory, "summary.md"), path);
        Assert.Equal(MixSummary.Markdown(Paper(), MixRow.Header(["dim"])), File.ReadAllText(path));
        Assert.Contains("No rows", MixSummary.Markdown([], MixRow.CommonHeader));
    }
}
