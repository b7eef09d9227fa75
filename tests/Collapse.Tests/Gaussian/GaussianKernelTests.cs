namespace Collapse.Tests.Gaussian;

/// <summary>Each Gaussian kernel against the plain float64 reference, on every accelerator and kernel path.</summary>
public class GaussianKernelTests
{
    /// <summary>Buffers of one batch of replicates, and the kernels under test.</summary>
    sealed class Batch : IDisposable
    {
        public readonly Accelerator Accelerator;
        public readonly GaussianKernels Kernels;
        public readonly GaussianShape Shape;
        public readonly MemoryBuffer1D<double, Stride1D.Dense> Mean, FactorT, LogDet, PivotLowerT, M2, Work;
        public readonly MemoryBuffer1D<int, Stride1D.Dense> Rank, Perm;
        public GaussianModelViews Model => new()
        {
            Mean = Mean.View, FactorT = FactorT.View, Rank = Rank.View, LogDet = LogDet.View,
            PivotLowerT = PivotLowerT.View, Permutation = Perm.View,
        };

        public Batch(string device, KernelPath path, int replicates, int d)
        {
            Accelerator = TestDevices.Get(device).Accelerator;
            Kernels = TestDevices.GaussianKernels(device, path);
            Shape = new GaussianShape(replicates, d);
            Mean = Accelerator.Allocate1D<double>(Shape.MeanLength);
            FactorT = Accelerator.Allocate1D<double>(Shape.FactorLength);
            PivotLowerT = Accelerator.Allocate1D<double>(Shape.FactorLength);
            LogDet = Accelerator.Allocate1D<double>(replicates);
            M2 = Accelerator.Allocate1D<double>(Shape.MatrixLength);
            Work = Accelerator.Allocate1D<double>(Shape.MatrixLength);
            Rank = Accelerator.Allocate1D<int>(replicates);
            Perm = Accelerator.Allocate1D<int>((long)replicates * d);
        }

        /// <summary>Uploads point sets [replicate][point][d] into the padded device layout.</summary>
        public MemoryBuffer1D<double, Stride1D.Dense> Upload(double[][][] points)
        {
            var m = points[0].Length;
            var host = new double[Shape.PointsLength(m)];
            for (var r = 0; r < points.Length; r++)
                for (var p = 0; p < m; p++)
                    for (var j = 0; j < Shape.Dim; j++)
                        host[((long)r * m + p) * Shape.Stride + j] = points[r][p][j];
            var buffer = Accelerator.Allocate1D<double>(host.Length);
            buffer.View.CopyFromCPU(host);
            return buffer;
        }

        public double[][][] Download(MemoryBuffer1D<double, Stride1D.Dense> buffer, int m)
        {
            Kernels.Synchronize();
            var host = buffer.GetAsArray1D();
            return Enumerable.Range(0, Shape.Replicates).Select(r => Enumerable.Range(0, m).Select(p =>
                Enumerable.Range(0, Shape.Dim).Select(j => host[((long)r * m + p) * Shape.Stride + j]).ToArray()).ToArray()).ToArray();
        }

        public void Dispose()
        {
            foreach (var b in new MemoryBuffer[] { Mean, FactorT, PivotLowerT, LogDet, M2, Work, Rank, Perm }) b.Dispose();
        }
    }

    static double[][][] RandomPoints(int seed, int replicates, int m, int d, double offset)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, replicates).Select(_ => Enumerable.Range(0, m).Select(_ =>
            Enumerable.Range(0, d).Select(j => offset + (j + 1) * (random.NextDouble() - 0.5)).ToArray()).ToArray()).ToArray();
    }

    static double[,] Matrix(double[] flat, int offset, int d)
    {
        var a = new double[d, d];
        for (var i = 0; i < d; i++)
            for (var j = 0; j < d; j++) a[i, j] = flat[offset + i * d + j];
        return a;
    }

    /// <summary>Every (accelerator, kernel path) with every (d, m) size.</summary>
    static TheoryData<string, KernelPath, int, int> Sizes(params (int D, int M)[] sizes)
    {
        var data = new TheoryData<string, KernelPath, int, int>();
        foreach (var (device, path) in TestDevices.PathList())
            foreach (var (d, m) in sizes)
                data.Add(device, path, d, m);
        return TestDevices.Tagged(data);
    }

    public static TheoryData<string, KernelPath, int, int> MomentCases() => Sizes((1, 2), (3, 7), (10, 50), (31, 40));

    [Theory]
    [MemberData(nameof(MomentCases))]
    public void Moments_match_the_reference_even_far_from_the_origin(string device, KernelPath path, int d, int m)
    {
        using var batch = new Batch(device, path, 3, d);
        var points = RandomPoints(d * 100 + m, 3, m, d, offset: 1000.0);
        using var buffer = batch.Upload(points);
        batch.Kernels.Moments(batch.Shape, buffer.View, (long)m * batch.Shape.Stride, m, batch.Mean.View, batch.M2.View);
        batch.Kernels.Synchronize();
        var mean = batch.Mean.GetAsArray1D();
        var m2 = batch.M2.GetAsArray1D();
        for (var r = 0; r < 3; r++)
        {
            var expectedMean = ReferenceGaussian.Mean(points[r]);
            for (var j = 0; j < d; j++) Assert.Equal(expectedMean[j], mean[r * d + j], 1e-9);
            var expected = ReferenceGaussian.Scatter(points[r]);
            var actual = Matrix(m2, r * d * d, d);
            Assert.True(ReferenceGaussian.MaxAbsDifference(expected, actual) <= 1e-9 * (1 + ReferenceGaussian.MaxAbs(expected)),
                $"replicate {r}: scatter differs by {ReferenceGaussian.MaxAbsDifference(expected, actual)}");
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Chan_merge_equals_the_moments_of_the_union(string device, KernelPath path)
    {
        const int d = 5;
        using var batch = new Batch(device, path, 2, d);
        var a = RandomPoints(1, 2, 30, d, 3.0);
        var b = RandomPoints(2, 2, 12, d, -7.0);
        using var bufferA = batch.Upload(a);
        using var bufferB = batch.Upload(b);
        using var meanB = batch.Accelerator.Allocate1D<double>(batch.Shape.MeanLength);
        using var m2B = batch.Accelerator.Allocate1D<double>(batch.Shape.MatrixLength);
        batch.Kernels.Moments(batch.Shape, bufferA.View, 30L * batch.Shape.Stride, 30, batch.Mean.View, batch.M2.View);
        batch.Kernels.Moments(batch.Shape, bufferB.View, 12L * batch.Shape.Stride, 12, meanB.View, m2B.View);
        batch.Kernels.Merge(batch.Shape, batch.Mean.View, batch.M2.View, 30, meanB.View, m2B.View, 12);
        batch.Kernels.Synchronize();
        var mean = batch.Mean.GetAsArray1D();
        var m2 = batch.M2.GetAsArray1D();
        for (var r = 0; r < 2; r++)
        {
            var union = a[r].Concat(b[r]).ToArray();
            var expectedMean = ReferenceGaussian.Mean(union);
            for (var j = 0; j < d; j++) Assert.Equal(expectedMean[j], mean[r * d + j], 1e-10);
            Assert.True(ReferenceGaussian.MaxAbsDifference(ReferenceGaussian.Scatter(union), Matrix(m2, r * d * d, d)) < 1e-9);
        }
    }

    public static TheoryData<string, KernelPath, int, int> FactorCases() => Sizes((1, 5), (4, 50), (17, 40), (10, 5), (31, 10), (10, 10));

    [Theory]
    [MemberData(nameof(FactorCases))]
    public void Factorization_reproduces_the_covariance_and_its_log_det(string device, KernelPath path, int d, int m)
    {
        using var batch = new Batch(device, path, 2, d);
        var points = RandomPoints(d + 31 * m, 2, m, d, 0.5);
        using var buffer = batch.Upload(points);
        batch.Kernels.Moments(batch.Shape, buffer.View, (long)m * batch.Shape.Stride, m, batch.Mean.View, batch.M2.View);
        batch.Kernels.Factorize(batch.Shape, batch.M2.View, m, batch.Model, batch.Work.View);
        batch.Kernels.Synchronize();
        var factorT = batch.FactorT.GetAsArray1D();
        var rank = batch.Rank.GetAsArray1D();
        var logDet = batch.LogDet.GetAsArray1D();
        for (var r = 0; r < 2; r++)
        {
            var covariance = ReferenceGaussian.Scatter(points[r]);
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++) covariance[i, j] /= m;
            var expectedRank = Math.Min(d, m - 1);
            Assert.Equal(expectedRank, rank[r]);
            var rebuilt = ReferenceGaussian.FromFactorT(factorT, r * d * batch.Shape.Stride, d, batch.Shape.Stride, rank[r]);
            Assert.True(ReferenceGaussian.MaxAbsDifference(covariance, rebuilt) < 1e-10 * (1 + ReferenceGaussian.MaxAbs(covariance)),
                $"replicate {r}: F·Fᵀ differs from Σ by {ReferenceGaussian.MaxAbsDifference(covariance, rebuilt)}");
            if (expectedRank == d) Assert.Equal(ReferenceGaussian.LogDet(covariance), logDet[r], 1e-8);
            else Assert.Equal(double.NegativeInfinity, logDet[r]);
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Sampling_is_mean_plus_factor_times_the_stream_normals(string device, KernelPath path)
    {
        const int d = 6, m = 9, fitPoints = 40;
        using var batch = new Batch(device, path, 2, d);
        var points = RandomPoints(5, 2, fitPoints, d, 2.0);
        using var buffer = batch.Upload(points);
        batch.Kernels.Moments(batch.Shape, buffer.View, (long)fitPoints * batch.Shape.Stride, fitPoints, batch.Mean.View, batch.M2.View);
        batch.Kernels.Factorize(batch.Shape, batch.M2.View, fitPoints, batch.Model, batch.Work.View);
        using var samples = batch.Accelerator.Allocate1D<double>(batch.Shape.PointsLength(m));
        samples.MemSetToZero();
        using var normals = batch.Accelerator.Allocate1D<float>(2L * m * d);
        var stream = new RandomStream(3, 0, 2, 2);
        batch.Kernels.Sample(batch.Shape, stream, 5, batch.Model, m, samples.View, (long)m * batch.Shape.Stride, normals.View);
        var drawn = batch.Download(samples, m);
        var mean = batch.Mean.GetAsArray1D();
        var factorT = batch.FactorT.GetAsArray1D();
        var rank = batch.Rank.GetAsArray1D();
        for (var r = 0; r < 2; r++)
        {
            // Both paths draw exactly Philox.Normal's numbers (tested bit for bit in PhiloxTests).
            var z = Enumerable.Range(0, m * d).Select(i => Philox.Normal(stream.ForReplicate((uint)(5 + r)), (ulong)i)).ToArray();
            for (var p = 0; p < m; p++)
                for (var j = 0; j < d; j++)
                {
                    var expected = mean[r * d + j];
                    for (var k = 0; k < rank[r]; k++) expected += z[p * d + k] * factorT[r * d * batch.Shape.Stride + k * batch.Shape.Stride + j];
                    Assert.Equal(expected, drawn[r][p][j], 1e-10);
                }
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void A_singular_fit_samples_inside_its_subspace(string device, KernelPath path)
    {
        // 5 points in d = 10 whose second half copies the first: Σ has rank 4 and Σ·(e_{5+i} − e_i) = 0.
        const int d = 10, fitPoints = 5, m = 200;
        var random = new System.Random(9);
        var points = Enumerable.Range(0, 1).Select(_ => Enumerable.Range(0, fitPoints).Select(_ =>
        {
            var half = Enumerable.Range(0, 5).Select(_ => random.NextDouble() * 3 - 1).ToArray();
            return half.Concat(half).ToArray();
        }).ToArray()).ToArray();
        using var batch = new Batch(device, path, 1, d);
        using var buffer = batch.Upload(points);
        batch.Kernels.Moments(batch.Shape, buffer.View, (long)fitPoints * batch.Shape.Stride, fitPoints, batch.Mean.View, batch.M2.View);
        batch.Kernels.Factorize(batch.Shape, batch.M2.View, fitPoints, batch.Model, batch.Work.View);
        using var samples = batch.Accelerator.Allocate1D<double>(batch.Shape.PointsLength(m));
        samples.MemSetToZero();
        using var normals = batch.Accelerator.Allocate1D<float>((long)m * d);
        batch.Kernels.Sample(batch.Shape, new RandomStream(1, 0, 2, 2), 0, batch.Model, m, samples.View, (long)m * batch.Shape.Stride, normals.View);
        var drawn = batch.Download(samples, m)[0];
        Assert.Equal(4, batch.Rank.GetAsArray1D()[0]);
        Assert.Equal(double.NegativeInfinity, batch.LogDet.GetAsArray1D()[0]);
        var spread = drawn.Max(x => Math.Abs(x[0] - drawn[0][0]));
        Assert.True(spread > 0.1, "samples should vary along the fitted directions");
        foreach (var x in drawn)
            for (var i = 0; i < 5; i++)
                Assert.True(Math.Abs(x[5 + i] - x[i]) < 1e-12, $"sample left the fitted subspace by {x[5 + i] - x[i]}");
    }
}
