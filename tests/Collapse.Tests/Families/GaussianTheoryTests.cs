namespace Collapse.Tests.Families;

public class GaussianTheoryTests
{
    const double EulerGamma = 0.57721566490153286;

    [Theory]
    [InlineData(1.0, -EulerGamma)]
    [InlineData(0.5, -EulerGamma - 1.3862943611198906)]
    [InlineData(10.0, 2.2517525890667211)]
    public void Digamma_matches_known_values(double x, double expected) =>
        Assert.Equal(expected, GaussianTheory.Digamma(x), 1e-12);

    [Theory]
    [InlineData(1.0, 1.6449340668482264)]
    [InlineData(0.5, 4.9348022005446793)]
    [InlineData(10.0, 0.10516633568168575)]
    public void Trigamma_matches_known_values(double x, double expected) =>
        Assert.Equal(expected, GaussianTheory.Trigamma(x), 1e-12);

    [Fact]
    public void Expectations_follow_the_wishart_recursion()
    {
        // One step from Σ = I with n points: E[tr Σ̂]/d = (n−1)/n, E[det Σ̂] = Π (n−i)/n.
        Assert.Equal(0.9, GaussianTheory.ExpectedTraceRatio(10, 1), 1e-15);
        Assert.Equal(Math.Log(0.9 * 0.8 * 0.7), GaussianTheory.LogExpectedDetRatio(3, 10, 1), 1e-12);
        Assert.Equal(3 * (1 - 0.9 * 0.9), GaussianTheory.ExpectedSquaredErrorMean(3, 10, 2), 1e-12);
        Assert.Equal(double.NegativeInfinity, GaussianTheory.LogExpectedDetRatio(10, 10, 1));
    }

    [Theory]
    [InlineData(3, 10)]
    [InlineData(100, 1000)]
    public void Every_setting_starts_from_the_same_fit_of_the_real_data(int d, int n)
    {
        foreach (var setting in Settings.All)
        {
            var first = GaussianTheory.Expectations(setting, d, n, 1)[0];
            Assert.Equal((n - 1.0) / n, first.TraceRatio, 1e-15);
            Assert.Equal((double)d / n, first.SquaredErrorMean, 1e-15);
        }
    }

    /// <summary>
    /// t = 2 by hand. Accumulate fits the 2n points of the real data and one generation: by Chan's merge
    /// E M₂ = M₁ + Σ₁((n − 1) + 1/2), so E tr Σ₂ = d(n − 1)(4n − 1)/(4n²); the mean moves by (x̄₂ − μ₁)/2, so
    /// E‖μ₂‖² = d/n + E tr Σ₁/(4n) = d(5n − 1)/(4n²). Accumulate-Subsample draws n of the 2n without
    /// replacement: E tr Σ₂ = ((n − 1)/n)(2n/(2n − 1))·E tr S₂ and E‖μ₂‖² = E‖ȳ₂‖² + (n/(n(2n − 1)))·E tr S₂.
    /// </summary>
    [Theory]
    [InlineData(3, 10)]
    [InlineData(1, 2)]
    public void The_second_iteration_matches_the_hand_derivation(int d, int n)
    {
        double nd = n;
        var accumulate = GaussianTheory.Expectations(Setting.Accumulate, d, n, 2)[1];
        var poolTrace = d * (nd - 1) * (4 * nd - 1) / (4 * nd * nd);
        var poolMean = d * (5 * nd - 1) / (4 * nd * nd);
        Assert.Equal(poolTrace / d, accumulate.TraceRatio, 1e-14);
        Assert.Equal(poolMean, accumulate.SquaredErrorMean, 1e-14);
        var subsample = GaussianTheory.Expectations(Setting.AccumulateSubsample, d, n, 2)[1];
        Assert.Equal((nd - 1) / nd * (2 * nd / (2 * nd - 1)) * poolTrace / d, subsample.TraceRatio, 1e-14);
        Assert.Equal(poolMean + nd / (nd * (2 * nd - 1)) * poolTrace, subsample.SquaredErrorMean, 1e-14);
    }

    /// <summary>Accumulate's E‖μ_t‖² tends to (π²/6)·d/n to first order in 1/n (Dey and Donoho 2024's π²/6 pathway); its trace ratio stays bounded away from 0.</summary>
    [Fact]
    public void Accumulates_mean_error_tends_to_pi_squared_over_six_d_over_n()
    {
        const int d = 10, n = 10_000;
        var far = GaussianTheory.Expectations(Setting.Accumulate, d, n, 20_000)[^1];
        Assert.Equal(Math.PI * Math.PI / 6 * d / n, far.SquaredErrorMean, 1e-3 * d / n);
        Assert.InRange(far.TraceRatio, 0.99, 1.0);
        // Replace's collapses: after t = 20,000 iterations of n = 10,000 it has lost 1 − e^−2 of its trace.
        Assert.Equal(Math.Pow(1 - 1.0 / n, 20_000), GaussianTheory.Expectations(Setting.Replace, d, n, 20_000)[^1].TraceRatio, 1e-12);
    }
}
