namespace Collapse.Tests.Reports;

/// <summary>Mean ± standard error over seeds, at every scale float64 holds.</summary>
public class EstimateTests
{
    static readonly double[] Unit = [1.0, 1.1, 0.9, 1.05, 0.95];

    // Sample sd of Unit / √5, by hand: deviations 0, .1, −.1, .05, −.05 → Σd² = 0.025, /4, /5 → √0.00125.
    static readonly double UnitError = Math.Sqrt(0.025 / 4 / 5);

    [Theory]
    [InlineData(1.0)]
    [InlineData(1e-230)] // det ratios of the paper grid at d = 100, n = 1000
    [InlineData(1e-305)] // near the bottom of the normal range
    [InlineData(1e200)]  // squares would overflow
    public void The_standard_error_scales_with_the_values_and_never_underflows_or_overflows(double scale)
    {
        var estimate = Estimate.Of(Unit.Select(v => v * scale).ToList());
        Assert.Equal(1.0, estimate.Mean / scale, 1e-12);
        Assert.True(estimate.StandardError > 0, $"se {estimate.StandardError} at scale {scale}");
        Assert.Equal(UnitError, estimate.StandardError / scale, 1e-12);
    }

    [Fact]
    public void A_tiny_mean_with_a_spread_as_large_as_itself_is_not_significant()
    {
        var estimate = Estimate.Of(new[] { 8e-230, 1e-231, 2.4e-229, 3e-232 });
        Assert.False(estimate.Significant(2));
        var steady = Estimate.Of(Unit.Select(v => v * 1e-230).ToList());
        Assert.True(steady.Significant(2));
    }

    [Fact]
    public void All_zero_values_have_zero_error_and_one_value_has_none()
    {
        Assert.Equal(new Estimate(0, 0, 3), Estimate.Of(new[] { 0.0, 0.0, 0.0 }));
        var single = Estimate.Of(new[] { 2.5 });
        Assert.Equal(2.5, single.Mean);
        Assert.True(double.IsNaN(single.StandardError));
        Assert.True(double.IsNaN(Estimate.Of(new[] { 1.0, double.PositiveInfinity }).StandardError));
    }
}
