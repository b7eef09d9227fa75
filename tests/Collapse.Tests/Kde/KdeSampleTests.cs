namespace Collapse.Tests.Kde;

public class KdeSampleTests
{
    static readonly RandomStream Choices = new(2, 0, 3, 6), Noise = new(2, 0, 3, 7);

    static double[] Sample(string device, double[] fitted, int replicates, int fittedCount, int dim, double h, int count, KernelPath path = KernelPath.Auto)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var kernels = new KdeKernels(accelerator, path);
        using var fittedBuffer = accelerator.Allocate1D(fitted);
        using var output = accelerator.Allocate1D<double>((long)replicates * count * dim);
        kernels.Sample(Choices, Noise, 4, replicates, dim, fittedBuffer.View, (long)fittedCount * dim, fittedCount, h, count, output.View);
        accelerator.Synchronize();
        return output.GetAsArray1D();
    }

    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void A_sample_is_a_chosen_fitted_point_plus_scaled_noise(string device)
    {
        const int replicates = 2, m = 7, dim = 3, count = 50;
        const double h = 0.3;
        var random = new System.Random(1);
        var fitted = Enumerable.Range(0, replicates * m * dim).Select(_ => random.NextDouble() * 10).ToArray();
        var samples = Sample(device, fitted, replicates, m, dim, h, count);
        for (var r = 0; r < replicates; r++)
            for (var p = 0; p < count; p++)
            {
                var chosen = (int)Philox.UniformIntAt(Choices.ForReplicate((uint)(4 + r)), (ulong)p, m);
                for (var j = 0; j < dim; j++)
                {
                    var expected = fitted[(r * m + chosen) * dim + j] + h * Philox.Normal(Noise.ForReplicate((uint)(4 + r)), (ulong)(p * dim + j));
                    Assert.Equal(expected, samples[(r * count + p) * dim + j], 1e-6);
                }
            }
    }

    /// <summary>
    /// The CPU path (normals drawn sixteen at a time, work split into blocks of samples) gives the ILGPU kernel's bits:
    /// counts across a block boundary and off every vector width, d = 1 to 3.
    /// </summary>
    [Theory]
    [InlineData(1, 4099)]
    [InlineData(2, 1000)]
    [InlineData(3, 5000)]
    public void The_cpu_path_gives_the_kernels_bits(int dim, int count)
    {
        const int replicates = 3, m = 37;
        var random = new System.Random(dim);
        var fitted = Enumerable.Range(0, replicates * m * dim).Select(_ => random.NextDouble() * 10 - 5).ToArray();
        var simd = Sample("cpu", fitted, replicates, m, dim, 0.7, count, KernelPath.Auto);
        var kernel = Sample("cpu", fitted, replicates, m, dim, 0.7, count, KernelPath.Ilgpu);
        Assert.Equal(kernel, simd);
    }

    [Fact]
    public void Samples_have_the_kdes_mean_and_covariance()
    {
        // The KDE's mean is the fitted points' mean; its covariance their (biased) covariance plus h²I.
        const int m = 5, count = 200_000;
        const double h = 0.5;
        double[] fitted = [0, 0, 2, 1, -1, 3, 4, -2, 1, 1];
        var samples = Sample("cpu", fitted, 1, m, 2, h, count);
        double[] mean = [fitted.Where((_, i) => i % 2 == 0).Average(), fitted.Where((_, i) => i % 2 == 1).Average()];
        var cov = new double[2, 2];
        for (var i = 0; i < m; i++)
            for (var a = 0; a < 2; a++)
                for (var b = 0; b < 2; b++) cov[a, b] += (fitted[2 * i + a] - mean[a]) * (fitted[2 * i + b] - mean[b]) / m;
        cov[0, 0] += h * h;
        cov[1, 1] += h * h;
        var sampleMean = new double[2];
        for (var p = 0; p < count; p++) { sampleMean[0] += samples[2 * p] / count; sampleMean[1] += samples[2 * p + 1] / count; }
        var sampleCov = new double[2, 2];
        for (var p = 0; p < count; p++)
            for (var a = 0; a < 2; a++)
                for (var b = 0; b < 2; b++) sampleCov[a, b] += (samples[2 * p + a] - sampleMean[a]) * (samples[2 * p + b] - sampleMean[b]) / count;
        for (var a = 0; a < 2; a++)
        {
            var se = Math.Sqrt(cov[a, a] / count);
            Assert.InRange(sampleMean[a], mean[a] - 4.5 * se, mean[a] + 4.5 * se);
            for (var b = 0; b < 2; b++)
            {
                // SE of a covariance entry is at most about sqrt((σ_aa σ_bb + σ_ab²)·3/n) for these mixtures.
                var covSe = Math.Sqrt(3 * (cov[a, a] * cov[b, b] + cov[a, b] * cov[a, b]) / count);
                Assert.InRange(sampleCov[a, b], cov[a, b] - 4.5 * covSe, cov[a, b] + 4.5 * covSe);
            }
        }
    }

    [Theory]
    [InlineData(100, 2, 0.46415888336127786)]
    [InlineData(1000, 3, 0.37275937203149401)]
    public void Scott_rule_is_m_to_minus_one_over_d_plus_4(int m, int dim, double expected) =>
        Assert.Equal(expected, Bandwidth.Scott.Value(m, dim), 1e-12);

    [Fact]
    public void Silverman_rule_matches_scikit_learn()
    {
        // (m (d+2)/4)^(-1/(d+4)) for m = 500, d = 2: (500)^(-1/6).
        Assert.Equal(Math.Pow(500, -1.0 / 6), Bandwidth.Silverman.Value(500, 2), 1e-12);
        Assert.True(Bandwidth.TryParse("0.5", out var fixedH) && fixedH.Value(10, 2) == 0.5 && !fixedH.DependsOnCount);
        Assert.False(Bandwidth.TryParse("0", out _));
        Assert.False(Bandwidth.TryParse("-1", out _));
        Assert.False(Bandwidth.TryParse("wide", out _));
    }
}
