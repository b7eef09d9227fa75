using System.Diagnostics;
using Collapse.Performance.Check;

namespace Collapse.Tests.Cli;

/// <summary>
/// Timings, so not run beside the other tests: a parallel test's load is exactly what the check
/// must tolerate, but there is no need to make this test fight it.
/// </summary>
[CollectionDefinition(nameof(PerfCheckCliTests), DisableParallelization = true)]
public sealed class PerfCheckCollection;

[Collection(nameof(PerfCheckCliTests))]
public class PerfCheckCliTests
{
    // The program's own build directory stands in for the reference: the same code on both sides,
    // so every true ratio is 1 and only an injected slowdown may fail. Two workloads keep the test
    // short (the test build is unoptimized: these two are its quickest): the one slowed down, and
    // one that must stay "ok" beside it.
    static string ThisBuild => Path.GetDirectoryName(typeof(Collapse.Cli.Program).Assembly.Location)!;

    static string[] Subset => ["perf-check", "--quick", "--kernels", "gaussian.factorize,gaussian.moments", "--reference-build", ThisBuild];

    static string FailureLine(CliRunner.Result result) =>
        result.Out.Split('\n').Single(line => line.StartsWith("perf-check FAILED", StringComparison.Ordinal));

    [Fact]
    public void The_same_build_on_both_sides_passes_and_an_injected_slowdown_fails_naming_the_workload()
    {
        var record = Path.Combine(CliRunner.TemporaryDirectory(), "perf-check.json");
        var clean = CliRunner.Run([.. Subset, "--record", record]);
        Assert.True(clean.ExitCode == 0, clean.Out + clean.Error);
        Assert.Contains("perf-check passed", clean.Out);
        var written = PerfRecord.Load(record);
        Assert.Equal(["gaussian.factorize", "gaussian.moments"], written.Workloads.Keys.Order());
        Assert.All(written.Workloads.Values, w => Assert.InRange(w.Ratio, 1 / 1.3, 1.3));
        Assert.All(written.Workloads.Values, w => Assert.True(w.ThisMilliseconds > 0 && w.ReferenceMilliseconds > 0));

        var slowed = CliRunner.Run([.. Subset, "--inject-slowdown", "gaussian.moments:3"]);
        Assert.True(slowed.ExitCode == 1, slowed.Out + slowed.Error);
        var failure = FailureLine(slowed);
        Assert.Contains("gaussian.moments", failure);
        Assert.DoesNotContain("gaussian.factorize", failure);
    }

    [Fact]
    public void The_adapter_for_builds_before_PerfCheckEntry_times_the_same_workloads_and_still_catches_a_slowdown()
    {
        var modern = new LoadedBuild(ThisBuild);
        var legacy = new LoadedBuild(ThisBuild, forceLegacy: true);
        Assert.NotEqual(modern.Contract, legacy.Contract);
        Assert.Equal(modern.Workloads, legacy.Workloads);
        Assert.Contains(modern.Workloads, w => w.Name == "random.normals");

        var slowed = CliRunner.Run([.. Subset, "--legacy-entry", "--inject-slowdown", "gaussian.factorize:3"]);
        Assert.True(slowed.ExitCode == 1, slowed.Out + slowed.Error);
        Assert.Contains("gaussian.factorize", FailureLine(slowed));
        Assert.DoesNotContain("gaussian.moments", FailureLine(slowed));
    }

    [Fact]
    public void Workloads_only_one_side_has_or_at_another_size_are_reported_not_compared_and_never_fail()
    {
        WorkloadName[] current = [new("a", "n=1"), new("b", "n=2"), new("new", "n=3")];
        WorkloadName[] reference = [new("a", "n=1"), new("b", "n=20"), new("gone", "n=4")];
        var match = WorkloadMatch.Of(current, reference);
        Assert.Equal([new WorkloadName("a", "n=1")], match.Compared);
        Assert.Equal([new WorkloadName("new", "n=3")], match.OnlyThis);
        Assert.Equal([new WorkloadName("gone", "n=4")], match.OnlyReference);
        Assert.Equal("n=20", Assert.Single(match.SizeDiffers).Reference.Size);

        var table = new StringWriter();
        var verdicts = new[] { new PairedVerdict([new PairedMeasurement("a", "n=1", 1.01, 2, 2, 0.01)]) };
        Assert.Empty(PerfCheck.Report(verdicts, match, 1.3, table));
        Assert.Contains("new in this commit: not compared", table.ToString());
        Assert.Contains("only in the reference: not compared", table.ToString());
        Assert.Contains("size differs from the reference's (n=20)", table.ToString());
    }

    [Fact]
    public void A_workload_slower_in_every_measurement_fails_and_one_slow_measurement_among_fast_ones_does_not()
    {
        var match = WorkloadMatch.Of([new("a", "s"), new("b", "s")], [new("a", "s"), new("b", "s")]);
        var verdicts = new[]
        {
            new PairedVerdict([new PairedMeasurement("a", "s", 1.6, 3, 2, 0.05), new PairedMeasurement("a", "s", 1.5, 3, 2, 0.05)]),
            new PairedVerdict([new PairedMeasurement("b", "s", 1.6, 3, 2, 0.05), new PairedMeasurement("b", "s", 1.1, 3, 2, 0.05)]),
        };
        Assert.Equal(["a"], PerfCheck.Report(verdicts, match, 1.3, new StringWriter()));
    }

    [Theory]
    [InlineData(new[] { "--reference", "no-such-revision-anywhere" }, "no-such-revision-anywhere")]
    [InlineData(new[] { "--reference-build", "/no/such/build" }, "/no/such/build")]
    [InlineData(new[] { "--reference", "HEAD", "--reference-build", "/tmp" }, "--reference-build")]
    [InlineData(new[] { "--threshold", "0.9" }, "--threshold 0.9")]
    [InlineData(new[] { "--kernels", "no.such" }, "no.such")]
    [InlineData(new[] { "--inject-slowdown", "kde.score:1" }, "kde.score:1")]
    [InlineData(new[] { "--kernels", "kde.score", "--inject-slowdown", "random.normals" }, "random.normals")]
    public void Bad_input_is_a_usage_error_naming_the_value(string[] args, string named)
    {
        var result = CliRunner.Run(["perf-check", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error);
    }
}

/// <summary>The reference side's git steps, on a small repository made for the test.</summary>
public class ReferenceBuildTests
{
    static string Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["GIT_AUTHOR_NAME"] = start.Environment["GIT_COMMITTER_NAME"] = "test";
        start.Environment["GIT_AUTHOR_EMAIL"] = start.Environment["GIT_COMMITTER_EMAIL"] = "test@example.invalid";
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', args)}: {git.StandardError.ReadToEnd()}");
        return output.Trim();
    }

    static string RepositoryWithTwoCommits()
    {
        var repository = CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(Path.Combine(repository, "results", "benchmarks"));
        Git(repository, "init", "-q");
        File.WriteAllText(Path.Combine(repository, "README.md"), "one\n");
        Git(repository, "add", "-A");
        Git(repository, "commit", "-q", "-m", "one");
        File.WriteAllText(Path.Combine(repository, ReferenceBuild.PinFile), "# the commit perf-check compares with\n\n" + Git(repository, "rev-parse", "HEAD") + "\n");
        Git(repository, "add", "-A");
        Git(repository, "commit", "-q", "-m", "two");
        return repository;
    }

    [Fact]
    public void The_pinned_revision_is_the_first_line_that_is_not_a_comment_and_resolves_to_the_full_hash()
    {
        var repository = RepositoryWithTwoCommits();
        var first = Git(repository, "rev-parse", "HEAD~1");
        Assert.Equal(first, ReferenceBuild.PinnedRevision(repository));
        Assert.Equal(first, ReferenceBuild.Resolve(repository, "HEAD~1"));
        Assert.Equal(Path.GetFullPath(repository), Path.GetFullPath(ReferenceBuild.RepositoryRoot(Path.Combine(repository, "results"))));
    }

    [Fact]
    public void A_commit_without_the_performance_project_is_refused_before_anything_is_built()
    {
        var repository = RepositoryWithTwoCommits();
        var commit = ReferenceBuild.Resolve(repository, "HEAD");
        var e = Assert.Throws<ReferenceBuildException>(() => ReferenceBuild.Ensure(repository, commit, TextWriter.Null));
        Assert.Contains("src/Collapse.Performance/Collapse.Performance.csproj", e.Message);
        Assert.Contains(commit[..12], e.Message);
    }

    [Fact]
    public void An_unknown_revision_names_itself_and_a_shallow_clone_says_so()
    {
        var repository = RepositoryWithTwoCommits();
        Assert.Contains("'nope'", Assert.Throws<ReferenceBuildException>(() => ReferenceBuild.Resolve(repository, "nope")).Message);

        var shallow = CliRunner.TemporaryDirectory();
        Git(Path.GetDirectoryName(shallow)!, "clone", "-q", "--depth", "1", "file://" + repository, shallow);
        var e = Assert.Throws<ReferenceBuildException>(() => ReferenceBuild.Resolve(shallow, ReferenceBuild.PinnedRevision(shallow)));
        Assert.Contains("shallow", e.Message);
    }

    [Fact]
    public void No_pin_file_is_an_error_saying_how_to_name_a_reference()
    {
        var repository = CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(repository);
        Assert.Contains("--reference", Assert.Throws<ReferenceBuildException>(() => ReferenceBuild.PinnedRevision(repository)).Message);
    }
}
