using Collapse.Engine.Data;
using Collapse.Engine.Reports;
using Collapse.Kernels.Kde;

namespace Collapse.Tests.Reports;

/// <summary>The bandwidth study's claim on rows whose best bandwidths are set by hand.</summary>
public class KdeBandwidthClaimTests
{
    static readonly double[] Grid = [0.1, 0.316, 1, 3.16];

    /// <summary>Rows for one (dataset, n): at each iteration every setting's NLL is |log10 h − log10 best| + 1, plus seed noise that averages out.</summary>
    static IEnumerable<KdeRow> Cell(int n, double first, double replace, double accumulate, double subsample, int last = 5) =>
        from setting in Settings.All
        from h in Grid
        from t in new[] { 1, last }
        from seed in Enumerable.Range(0, 4)
        let best = t == 1 ? first : setting == Setting.Replace ? replace : setting == Setting.Accumulate ? accumulate : subsample
        select new KdeRow(ToyDataset.Moons, Bandwidth.Of(h), setting, n, seed, t, Math.Abs(Math.Log10(h) - Math.Log10(best)) + 1 + (seed - 1.5) * 0.01);

    [Fact]
    public void Holds_where_replaces_best_bandwidth_grows_and_accumulates_does_not()
    {
        var rows = Cell(10, first: 0.316, replace: 1, accumulate: 0.1, subsample: 0.316).Concat(Cell(100, first: 0.1, replace: 3.16, accumulate: 0.1, subsample: 1)).ToList();
        var claim = Assert.Single(ExperimentClaims.KdeBandwidth(rows));
        Assert.Equal(Verdict.Holds, claim.Verdict);
        Assert.Equal(["0.316", "1", "0.1", "0.316"], claim.Rows[0].Numbers);
        Assert.All(claim.Rows, r => Assert.Equal(Verdict.Holds, r.Verdict));
    }

    [Theory]
    [InlineData(0.316, 0.316, 0.1)] // Replace's best did not grow
    [InlineData(0.316, 1, 1)] // Accumulate's grew too
    public void Does_not_hold_otherwise(double first, double replace, double accumulate)
    {
        var claim = Assert.Single(ExperimentClaims.KdeBandwidth([.. Cell(10, first, replace, accumulate, subsample: first)]));
        Assert.Equal(Verdict.DoesNotHold, claim.Verdict);
    }

    [Fact]
    public void A_run_of_fewer_than_three_fixed_bandwidths_makes_no_claim()
    {
        var rows = Cell(10, 0.316, 1, 0.1, 0.316).Where(r => r.Bandwidth.Fixed <= 0.316).ToList();
        Assert.Empty(ExperimentClaims.KdeBandwidth(rows));
    }
}
