using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Kde;

namespace Collapse.Tests.Scenarios;

/// <summary>The family contract as the scenario chain relies on it: capabilities, state per chain, named metrics.</summary>
public class FamilyContractTests
{
    static readonly ComputeDevice Cpu = TestDevices.Get("cpu");

    [Fact]
    public void A_policy_the_family_cannot_run_is_refused_before_anything_runs()
    {
        using var wishart = new WishartGaussianFamily(Cpu.Accelerator, TestDevices.GaussianKernels("cpu", KernelPath.Auto), 3, 2, 0, 1);
        Assert.False(wishart.Capabilities.Pools);
        Assert.True(wishart.Capabilities.ExactSimulation);
        var refused = Assert.Throws<NotSupportedException>(() => new ScenarioChain<StatisticsBatch>(Setting.AccumulateSubsample, wishart, 10, 3));
        Assert.Contains("accumulate-subsample", refused.Message);
        Assert.Contains("sufficient statistics", refused.Message);
        // The settings it supports still run.
        foreach (var setting in new[] { Setting.Replace, Setting.Accumulate })
        {
            using var chain = new ScenarioChain<StatisticsBatch>(setting, wishart, 10, 2);
            chain.Step();
            chain.Step();
            Assert.True(chain.Metrics[0, GaussianMetrics.TraceRatio] > 0);
        }
    }

    /// <summary>
    /// Accumulate's state belongs to its chain: a second chain on the same family (after another
    /// fit in between) gives exactly the first chain's metrics. Before the contract, the Gaussian
    /// family kept its accumulated count across chains, and its real data came from the last fit.
    /// </summary>
    [Theory]
    [InlineData("accumulate")]
    [InlineData("replace")]
    [InlineData("accumulate-subsample")]
    public void A_chain_leaves_nothing_behind_for_the_next_chain_on_the_same_family(string setting)
    {
        const int n = 12, iterations = 4;
        using var family = new GaussianFamily(Cpu.Accelerator, TestDevices.GaussianKernels("cpu", KernelPath.Auto), 4, 3, 0, 5);
        double[] Chain()
        {
            var values = new List<double>();
            ScenarioRunner.Run(Settings.Parse(setting), family, n, iterations, chain =>
            {
                for (var r = 0; r < family.Replicates; r++)
                    for (var k = 0; k < family.Metrics.Count; k++) values.Add(chain.Metrics[r, family.Metrics[k]]);
            });
            return [.. values];
        }
        var first = Chain();
        using (var other = family.Sample(50, 99)) family.Fit(other);
        Assert.Equal(first, Chain());
    }

    [Fact]
    public void A_metric_table_refuses_another_familys_metric()
    {
        var table = new MetricTable(2, GaussianMetrics.All);
        table[1, GaussianMetrics.DetRatio] = 0.5;
        Assert.Equal(0.5, table[1, GaussianMetrics.DetRatio]);
        // KDE's nll_test has index 0, as squared_error_mean does: the table must not read it as that.
        var wrong = Assert.Throws<ArgumentException>(() => table[0, KdeFamily.NllTest]);
        Assert.Contains("nll_test", wrong.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[2, GaussianMetrics.DetRatio]);
    }
}
