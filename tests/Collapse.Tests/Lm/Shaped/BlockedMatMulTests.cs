using Collapse.Kernels.Accelerators;
using static Collapse.Tests.Lm.Shaped.TiledMatMulTests;

namespace Collapse.Tests.Lm.Shaped;

/// <summary>
/// The register-blocked products of <see cref="BlockedMatMulKernels"/> (the shaped version's on CPU devices), through the
/// checks of <see cref="TiledMatMulTests"/>: forward with and without the LayerNorm prologue and the GELU epilogue, backward
/// with and without the GELU-backward epilogue and a bias, against float64 and the plain kernels on every accelerator, on
/// shapes off every 4 × 8 block (N = 1, 3, 19, 37, 50; OC = 1, 5, 17, 27, 70; K = 1, 9, 45), a prologue row wider than
/// the tiled kernel's shared memory holds, and launches of one and of three threads (each striding over many blocks).
/// On ILGPU's CPU accelerator, where both are compiled by .NET's JIT, the results are the plain kernels' bit for bit.
/// </summary>
public class BlockedMatMulTests
{
    static readonly (int R, int N, int K, int OC, bool Bias)[] MoreShapes =
    [
        (2, 3, 9, 17, true),    // fewer rows than a block; 17 = two blocks of 8 and one column
        (1, 6, 1100, 5, true),  // a prologue row wider than TiledMatMulKernels.MaxNormWidth
    ];

    static IEnumerable<(int R, int N, int K, int OC, bool Bias)> AllShapes => Shapes.Concat(MoreShapes);

    public static TheoryData<string, int, int, int, int, bool, Norm, bool> ForwardCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, Norm, bool>();
        foreach (var device in Devices())
            foreach (var (r, n, k, oc, bias) in AllShapes)
                foreach (var norm in new[] { Norm.None, Norm.LayerNorm, Norm.ResidualLayerNorm })
                    foreach (var gelu in new[] { false, true })
                        data.Add(device, r, n, k, oc, bias, norm, gelu);
        return TestDevices.Tagged(data);
    }

    public static TheoryData<string, int, int, int, int, bool, bool> BackwardCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, bool>();
        foreach (var device in Devices())
            foreach (var (r, n, k, oc, _) in AllShapes)
                foreach (var bias in new[] { true, false })
                    foreach (var gelu in new[] { false, true })
                        data.Add(device, r, n, k, oc, bias, gelu);
        return TestDevices.Tagged(data);
    }

    static readonly Dictionary<Accelerator, (Action<Index1D, MatMulForwardArgs, int> Forward, Action<Index1D, MatMulBackwardArgs, int> Backward)> Loaded = [];

    static (Action<Index1D, MatMulForwardArgs, int> Forward, Action<Index1D, MatMulBackwardArgs, int> Backward) Kernels(Accelerator accelerator)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(accelerator, out var kernels))
            {
                // Grouped as LmKernels loads them.
                var size = BlockedMatMulKernels.GroupSize(accelerator);
                Loaded[accelerator] = kernels = size > 0
                    ? (accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, MatMulForwardArgs, int>(BlockedMatMulKernels.Forward, size).Serialized(accelerator),
                        accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, MatMulBackwardArgs, int>(BlockedMatMulKernels.Backward, size).Serialized(accelerator))
                    : (accelerator.LoadAutoGroupedStreamKernel<Index1D, MatMulForwardArgs, int>(BlockedMatMulKernels.Forward).Serialized(accelerator),
                        accelerator.LoadAutoGroupedStreamKernel<Index1D, MatMulBackwardArgs, int>(BlockedMatMulKernels.Backward).Serialized(accelerator));
            }
            return kernels;
        }
    }

    /// <summary>The launch: <paramref name="threads"/> threads, or with 0 as many as LmKernels gives (LaunchSize).</summary>
    static Action<MatMulForwardArgs> Forward(Accelerator accelerator, int threads = 0) => args =>
    {
        var n = threads > 0 ? threads : LaunchSize.For(accelerator, BlockedMatMulKernels.ForwardItems(args));
        Kernels(accelerator).Forward(n, args, n);
    };

    static Action<MatMulBackwardArgs> Backward(Accelerator accelerator, int threads = 0) => args =>
    {
        var n = threads > 0 ? threads : LaunchSize.For(accelerator, BlockedMatMulKernels.BackwardItems(args));
        Kernels(accelerator).Backward(n, args, n);
    };

    /// <summary>The plain kernels' bits where both are compiled by .NET's JIT.</summary>
    static bool SameBits(string device) => device == "cpu";

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Forward_matches_float64_and_the_plain_kernels(string device, int R, int N, int K, int OC, bool bias, Norm norm, bool gelu)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        AssertForward(accelerator, R, N, K, OC, bias, norm, gelu, Forward(accelerator), LmTestKit.Kernels(device, LmVersion.Plain), SameBits(device));
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward_matches_float64_and_the_plain_kernels(string device, int R, int N, int K, int OC, bool bias, bool gelu)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        AssertBackward(accelerator, R, N, K, OC, bias, gelu, Backward(accelerator), LmTestKit.Kernels(device, LmVersion.Plain), samePlainBits: SameBits(device));
    }

    [Theory]
    [InlineData(1, Norm.ResidualLayerNorm, true)]
    [InlineData(3, Norm.None, true)]
    [InlineData(3, Norm.LayerNorm, false)]
    public void Forward_with_few_threads_striding_over_the_blocks_matches(int threads, Norm norm, bool gelu)
    {
        var accelerator = TestDevices.Get("cpu").Accelerator;
        AssertForward(accelerator, 3, 37, 64, 70, true, norm, gelu, Forward(accelerator, threads), LmTestKit.Kernels("cpu", LmVersion.Plain), samePlainBits: true);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(3, false)]
    public void Backward_with_few_threads_striding_over_the_blocks_matches(int threads, bool gelu)
    {
        var accelerator = TestDevices.Get("cpu").Accelerator;
        AssertBackward(accelerator, 3, 37, 45, 70, true, gelu, Backward(accelerator, threads), LmTestKit.Kernels("cpu", LmVersion.Plain), samePlainBits: true);
    }

    /// <summary>The weight gradient's double sums over N = 4,096 rows off zero, as <see cref="TiledMatMulTests"/> checks the tiled float sums.</summary>
    [Theory]
    [InlineData(0.0f)]
    [InlineData(1.0f)]
    public void Weight_gradient_over_4096_rows_stays_within_tolerance(float shift)
    {
        var accelerator = TestDevices.Get("cpu").Accelerator;
        AssertBackward(accelerator, 1, 4096, 64, 32, true, false, Backward(accelerator), LmTestKit.Kernels("cpu", LmVersion.Plain), shift, samePlainBits: true);
    }
}
