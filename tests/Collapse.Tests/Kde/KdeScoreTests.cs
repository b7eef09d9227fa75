namespace Collapse.Tests.Kde;

/// <summary>KDE scoring against the float64 reference, on every accelerator and kernel path.</summary>
public class KdeScoreTests
{
    static double[][][] Points(int seed, int replicates, int count, int dim, double spread, double offset = 0)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, replicates).Select(_ => Enumerable.Range(0, count).Select(_ =>
            Enumerable.Range(0, dim).Select(_ => offset + spread * (random.NextDouble() - 0.5)).ToArray()).ToArray()).ToArray();
    }

    static double[] Flat(double[][][] points) => points.SelectMany(r => r.SelectMany(p => p)).ToArray();

    static double[] Score(string device, KernelPath path, double[][][] test, IEnumerable<double[][][]> batches, double h)
    {
        var (state, fitted) = States(device, path, test, batches, h);
        return KdeKernels.MeanNegativeLogLikelihood(state, test.Length, test[0].Length, fitted, test[0][0].Length, h);
    }

    static (double[] State, long Fitted) States(string device, KernelPath path, double[][][] test, IEnumerable<double[][][]> batches, double h)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var kernels = new KdeKernels(accelerator, path);
        var (replicates, testCount, dim) = (test.Length, test[0].Length, test[0][0].Length);
        using var testBuffer = accelerator.Allocate1D(Flat(test));
        using var state = accelerator.Allocate1D<double>(2L * replicates * testCount);
        kernels.Reset(state.View);
        long fitted = 0;
        foreach (var batch in batches)
        {
            using var batchBuffer = accelerator.Allocate1D(Flat(batch));
            kernels.Accumulate(replicates, dim, testBuffer.View, testCount, batchBuffer.View, (long)batch[0].Length * dim,
                batch[0].Length, h, state.View);
            fitted += batch[0].Length;
        }
        accelerator.Synchronize();
        return (state.GetAsArray1D(), fitted);
    }

    public static TheoryData<string, KernelPath, int, double> Cases()
    {
        var data = new TheoryData<string, KernelPath, int, double>();
        foreach (var (device, path) in TestDevices.PathList())
            foreach (var (dim, h) in new[] { (2, 0.1), (2, 1.0), (3, 0.1), (3, 0.5) })
                data.Add(device, path, dim, h);
        return TestDevices.Tagged(data);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mean_nll_matches_the_reference(string device, KernelPath path, int dim, double h)
    {
        var test = Points(1, 3, 37, dim, 4.0);
        var fitted = Points(2, 3, 53, dim, 4.0);
        var nll = Score(device, path, test, [fitted], h);
        for (var r = 0; r < 3; r++)
            Assert.Equal(ReferenceKde.MeanNegativeLogLikelihood(test[r], fitted[r], h), nll[r], 1e-9);
    }

    /// <summary>
    /// The NLL reduced where the states are (on the device for the ILGPU path, in place on the CPU path)
    /// equals the host reduction of the downloaded states: bit for bit on the CPU, within the GPU backends' log's ulp elsewhere.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void The_nll_reduced_on_the_device_equals_the_host_reduction(string device, KernelPath path)
    {
        const int replicates = 3, testCount = 37, fittedCount = 50, dim = 2;
        const double h = 0.4;
        var accelerator = TestDevices.Get(device).Accelerator;
        var kernels = new KdeKernels(accelerator, path);
        var (test, fitted) = (Points(5, replicates, testCount, dim, 4), Points(6, replicates, fittedCount, dim, 4));
        using var testBuffer = accelerator.Allocate1D(Flat(test));
        using var fittedBuffer = accelerator.Allocate1D(Flat(fitted));
        using var state = accelerator.Allocate1D<double>(2L * replicates * testCount);
        using var nll = accelerator.Allocate1D<double>(replicates);
        kernels.Reset(state.View);
        kernels.Accumulate(replicates, dim, testBuffer.View, testCount, fittedBuffer.View, (long)fittedCount * dim, fittedCount, h, state.View);
        var reduced = kernels.MeanNegativeLogLikelihood(state.View, testCount, fittedCount, dim, h, nll.View);
        accelerator.Synchronize();
        var host = KdeKernels.MeanNegativeLogLikelihood(state.GetAsArray1D(), replicates, testCount, fittedCount, dim, h);
        for (var r = 0; r < replicates; r++)
            if (TestDevices.Get(device).IsCpu) Assert.Equal(host[r], reduced[r]);
            else Assert.Equal(host[r], reduced[r], 1e-13 * Math.Abs(host[r]));
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Far_away_test_points_stay_finite(string device, KernelPath path)
    {
        // h = 0.1 at distance ~70: every exp(−‖t − x‖²/2h²) underflows in a naive sum (v ≈ −2.5·10⁵).
        var test = Points(3, 2, 5, 2, 1.0, offset: 50.0);
        var fitted = Points(4, 2, 20, 2, 1.0);
        var nll = Score(device, path, test, [fitted], 0.1);
        for (var r = 0; r < 2; r++)
        {
            Assert.True(double.IsFinite(nll[r]) && nll[r] > 1e5, $"NLL {nll[r]}");
            Assert.Equal(ReferenceKde.MeanNegativeLogLikelihood(test[r], fitted[r], 0.1), nll[r], 1e-6 * nll[r]);
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void Adding_generations_one_by_one_equals_scoring_them_all_at_once(string device, KernelPath path)
    {
        var test = Points(5, 2, 31, 2, 6.0);
        var generations = Enumerable.Range(0, 4).Select(g => Points(10 + g, 2, 17, 2, 6.0, offset: g)).ToList();
        var incremental = Score(device, path, test, generations, 0.5);
        var union = Enumerable.Range(0, 2).Select(r => generations.SelectMany(g => g[r]).ToArray()).ToArray();
        var full = Score(device, path, test, [union], 0.5);
        for (var r = 0; r < 2; r++) Assert.Equal(full[r], incremental[r], 1e-10);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Paths), MemberType = typeof(TestDevices))]
    public void The_density_integrates_to_one(string device, KernelPath path)
    {
        // The kernels' own density of a 2-D KDE of 20 points (h = 0.5), summed over a fine grid
        // that extends at least 8h past every fitted point.
        var fitted = Points(6, 1, 20, 2, 3.0);
        const double step = 0.025, low = -6, high = 6;
        var grid = new List<double[]>();
        for (var x = low; x < high; x += step)
            for (var y = low; y < high; y += step) grid.Add([x + step / 2, y + step / 2]);
        var (state, count) = States(device, path, [grid.ToArray()], [fitted], 0.5);
        var total = Enumerable.Range(0, grid.Count).Sum(i => Math.Exp(KdeKernels.LogDensity(state, i, count, 2, 0.5))) * step * step;
        Assert.Equal(1.0, total, 1e-4);
    }

    [Fact]
    public void Simd_scoring_over_many_leaves_matches_the_reference()
    {
        // Many leaves of fitted points, their count not a multiple of the leaf or of the vector width.
        var test = Points(7, 2, 23, 2, 5.0);
        var fitted = Points(8, 2, 64 * Kernels.Cpu.SimdKde.Leaf + 37, 2, 5.0);
        var nll = Score("cpu", KernelPath.Auto, test, [fitted], 0.1);
        for (var r = 0; r < 2; r++)
            Assert.Equal(ReferenceKde.MeanNegativeLogLikelihood(test[r], fitted[r], 0.1), nll[r], 1e-9);
    }

    [Theory]
    [InlineData(1, 0.1)]
    [InlineData(2, 0.1)]
    [InlineData(3, 0.5)]
    [InlineData(4, 1.0)]
    public void Tiled_kernel_matches_the_reference(int dim, double h) =>
        AssertTiledMatchesReference(TestDevices.Get("cpu").Accelerator, dim, h, tile: null, testCount: 45);

    public static TheoryData<string, int> Splits()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.Present().Select(row => (string)((ITheoryDataRow)row).GetData()[0]!))
            foreach (var splits in new[] { 1, 2, 3, 7, 40 })
                data.Add(device, splits);
        return TestDevices.Tagged(data);
    }

    /// <summary>
    /// The fitted points split over groups and the partial states merged: the same densities as one pass, whatever
    /// the split (40 ranges of the 18-point generation leave most of them empty).
    /// </summary>
    [Theory]
    [MemberData(nameof(Splits))]
    public void Tiled_kernel_with_the_fitted_points_split_matches_the_reference(string device, int splits) =>
        AssertTiledMatchesReference(TestDevices.Get(device).Accelerator, 2, 0.3, tile: 16, testCount: 45, splits: splits);

    /// <summary>ILGPU's CPU accelerator shaped like an NVIDIA multiprocessor: warps of 32, groups up to 1,024 threads.</summary>
    static readonly Lazy<ComputeDevice> GpuShaped = new(() => AcceleratorCatalog.OpenGpuShapedCpu());

    [Theory]
    [InlineData(2, 0.1, 32)]   // one warp
    [InlineData(2, 0.5, 100)]  // a group that is not a whole number of warps
    [InlineData(3, 1.0, 128)]  // the tile GPUs run (MaxTile: the kernel's shared buffer holds 128 points)
    [InlineData(4, 0.5, null)] // the default on a device with 1,024-thread groups
    public void Tiled_kernel_with_gpu_shaped_groups_matches_the_reference(int dim, double h, int? tile)
    {
        // Warp-wide groups on a device whose warp is 32 (the production CPU device's is 4): test and
        // fitted counts that leave the last tile partly empty, so lanes without a point still meet
        // every barrier.
        var accelerator = GpuShaped.Value.Accelerator;
        Assert.Equal(32, accelerator.WarpSize);
        Assert.Equal(1024, accelerator.MaxNumThreadsPerGroup);
        AssertTiledMatchesReference(accelerator, dim, h, tile, testCount: 300);
    }

    static void AssertTiledMatchesReference(Accelerator accelerator, int dim, double h, int? tile, int testCount, int? splits = null)
    {
        // Test and fitted counts that are not multiples of the tile, two generations added one after the other.
        var kernels = new KdeKernels(accelerator, KernelPath.Ilgpu);
        var test = Points(11, 3, testCount, dim, 4.0);
        var generations = new[] { Points(12, 3, 229, dim, 4.0), Points(13, 3, 18, dim, 4.0, offset: 1) };
        using var testBuffer = accelerator.Allocate1D(Flat(test));
        using var state = accelerator.Allocate1D<double>(2L * 3 * testCount);
        kernels.Reset(state.View);
        foreach (var generation in generations)
        {
            using var fitted = accelerator.Allocate1D(Flat(generation));
            kernels.AccumulateTiled(3, dim, testBuffer.View, testCount, fitted.View, (long)generation[0].Length * dim, generation[0].Length, h, state.View, tile,
                splits is int k ? Math.Min(k, generation[0].Length) : null);
        }
        accelerator.Synchronize();
        var nll = KdeKernels.MeanNegativeLogLikelihood(state.GetAsArray1D(), 3, testCount, 247, dim, h);
        for (var r = 0; r < 3; r++)
        {
            var union = generations.SelectMany(g => g[r]).ToArray();
            Assert.Equal(ReferenceKde.MeanNegativeLogLikelihood(test[r], union, h), nll[r], 1e-9);
        }
    }
}
