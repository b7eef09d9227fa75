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

    /// <summary>
    /// The draw against a plain float64 construction from the same random numbers: A has
    /// A_cc = sqrt(χ²(n−1−c)) and A_kc = normal d + k·d + c below the diagonal, z_k = normal k;
    /// then mean = μ + F·z/√n and G = F·A/√n.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Draw_matches_the_float64_construction(string device, KernelPath path)
    {
        foreach (var (d, n) in new[] { (5, 20), (6, 4) })
        {
            var accelerator = TestDevices.Get(device).Accelerator;
            var kernels = TestDevices.GaussianKernels(device, path);
            var shape = new GaussianShape(2, d);
            var ld = shape.Stride;
            var random = new System.Random(d * 7 + n);
            var mean = Enumerable.Range(0, (int)shape.MeanLength).Select(_ => random.NextDouble() * 4 - 2).ToArray();
            var factorT = new double[shape.FactorLength];
            var ranks = new[] { d, d - 2 };
            for (var r = 0; r < 2; r++)
                for (var k = 0; k < ranks[r]; k++)
                    for (var j = 0; j < d; j++) factorT[r * d * ld + k * ld + j] = random.NextDouble() - 0.5;
            using var meanBuffer = accelerator.Allocate1D(mean);
            using var factorBuffer = accelerator.Allocate1D(factorT);
            using var rankBuffer = accelerator.Allocate1D(ranks);
            using var gMean = accelerator.Allocate1D<double>(shape.MeanLength);
            using var gFactor = accelerator.Allocate1D<double>(shape.FactorLength);
            using var gRank = accelerator.Allocate1D<int>(2);
            using var increment = accelerator.Allocate1D<double>(2);
            var normals = new RandomStream(9, 0, 3, 4);
            var chi = new RandomStream(9, 0, 3, 5);
            kernels.DrawWishart(shape, normals, chi, 7, n, meanBuffer.View, factorBuffer.View, rankBuffer.View,
                gMean.View, gFactor.View, gRank.View, increment.View);
            kernels.Synchronize();
            var actualMean = gMean.GetAsArray1D();
            var actualFactor = gFactor.GetAsArray1D();
            var actualRank = gRank.GetAsArray1D();
            var actualIncrement = increment.GetAsArray1D();
            for (var r = 0; r < 2; r++)
            {
                var stream = normals.ForReplicate((uint)(7 + r));
                var chiStream = chi.ForReplicate((uint)(7 + r));
                var rank = ranks[r];
                var rankOut = Math.Min(rank, n - 1);
                Assert.Equal(rankOut, actualRank[r]);
                var f = new double[d, rank];
                for (var k = 0; k < rank; k++)
                    for (var j = 0; j < d; j++) f[j, k] = factorT[r * d * ld + k * ld + j];
                var a = new double[rank, rankOut];
                var expectedIncrement = 0.0;
                for (var c = 0; c < rankOut; c++)
                {
                    var chiSquare = WishartKernels.ChiSquare(chiStream, c, n - 1 - c);
                    a[c, c] = Math.Sqrt(chiSquare);
                    expectedIncrement += Math.Log(chiSquare / n);
                    for (var k = c + 1; k < rank; k++) a[k, c] = Philox.Normal(stream, (ulong)(d + k * d + c));
                }
                Assert.Equal(expectedIncrement, actualIncrement[r], 1e-12);
                for (var j = 0; j < d; j++)
                {
                    var expected = mean[r * d + j];
                    for (var k = 0; k < rank; k++) expected += f[j, k] * Philox.Normal(stream, (ulong)k) / Math.Sqrt(n);
                    Assert.Equal(expected, actualMean[r * d + j], 1e-12);
                    for (var c = 0; c < d; c++)
                    {
                        var g = 0.0;
                        if (c < rankOut)
                            for (var k = 0; k < rank; k++) g += f[j, k] * a[k, c];
                        Assert.Equal(g / Math.Sqrt(n), actualFactor[r * d * ld + c * ld + j], 1e-12);
                    }
                }
            }
        }
    }
}
