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
}
