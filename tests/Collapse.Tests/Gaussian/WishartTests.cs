using Collapse.Kernels.Gaussian;
using Collapse.Kernels.Random;

namespace Collapse.Tests.Gaussian;

public class WishartTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(99)]
    public void Chi_square_draws_have_mean_nu_and_variance_two_nu(int degrees)
    {
        var stream = new RandomStream(12, 0, 1, 5);
        const int count = 40_000;
        var values = Enumerable.Range(0, count).Select(c => WishartKernels.ChiSquare(stream, c, degrees)).ToArray();
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (count - 1);
        // SE of the mean is sqrt(2ν/count); of the variance about sqrt((8ν·(ν+6))/count) (fourth cumulant 48ν).
        Assert.InRange(mean, degrees - 4.5 * Math.Sqrt(2.0 * degrees / count), degrees + 4.5 * Math.Sqrt(2.0 * degrees / count));
        var varianceError = Math.Sqrt((8.0 * degrees * degrees + 48.0 * degrees) / count);
        Assert.InRange(variance, 2 * degrees - 4.5 * varianceError, 2 * degrees + 4.5 * varianceError);
        Assert.All(values, v => Assert.True(v > 0 && double.IsFinite(v)));
    }
}
