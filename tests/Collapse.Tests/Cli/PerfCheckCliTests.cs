using System.Text.Json;

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
    // Two kernels keep the test short (the test build is unoptimized: these two are its quickest):
    // the one slowed down, and one that must stay "ok" beside it.
    static readonly string[] Subset = ["perf-check", "--quick", "--kernels", "gaussian.factorize,gaussian.moments"];

    [Fact]
    public void An_injected_slowdown_fails_the_check_and_names_the_kernel_and_without_it_the_check_passes()
    {
        var baseline = Path.Combine(CliRunner.TemporaryDirectory(), "baseline.json");

        var recorded = CliRunner.Run([.. Subset, "--update-baseline", "--baseline", baseline]);
        Assert.True(recorded.ExitCode == 0, recorded.Out + recorded.Error);
        using (var json = JsonDocument.Parse(File.ReadAllText(baseline)))
        {
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("machine").GetString()));
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("commit").GetString()));
            Assert.True(json.RootElement.GetProperty("kernels").GetProperty("gaussian.moments").GetProperty("normalized").GetDouble() > 0);
        }

        var clean = CliRunner.Run([.. Subset, "--baseline", baseline]);
        Assert.True(clean.ExitCode == 0, clean.Out + clean.Error);
        Assert.Contains("perf-check passed", clean.Out);

        var slowed = CliRunner.Run([.. Subset, "--baseline", baseline, "--inject-slowdown", "gaussian.moments:3"]);
        Assert.True(slowed.ExitCode == 1, slowed.Out + slowed.Error);
        var failure = slowed.Out.Split('\n').Single(line => line.StartsWith("perf-check FAILED", StringComparison.Ordinal));
        Assert.Contains("gaussian.moments", failure);
        Assert.DoesNotContain("gaussian.factorize", failure);
    }

    [Fact]
    public void A_missing_baseline_is_a_usage_error_naming_the_file()
    {
        var missing = Path.Combine(CliRunner.TemporaryDirectory(), "none.json");
        var result = CliRunner.Run("perf-check", "--baseline", missing);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Error);
    }
}
