using System.Reflection;
using Collapse.Tests.Accelerators;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Collapse.Tests.Lm.Shaped;

/// <summary>
/// The tiled matrix products of <see cref="TiledMatMulKernels"/> (forward with and without the LayerNorm prologue
/// and the GELU epilogue; backward with and without the GELU-backward epilogue and a bias) against a float64
/// reference written here and against the plain kernels (<see cref="LmKernels"/> in <see cref="LmVersion.Plain"/>),
/// on every accelerator, with shapes off every tile (K = 1, K = 45, OC = 27, N = 1) and R &gt; 1 replicates with
/// different weights at odd offsets inside an odd parameter stride.
/// </summary>
public class TiledMatMulTests
{
    /// <summary>Per-row (or per-tensor, for weight gradients) relative tolerance against float64.</summary>
    const double Tolerance = 1e-5;

    /// <summary>The LayerNorm statistics: mean relative to the row's spread, rstd relative to itself.</summary>
    const double StatsTolerance = 1e-6;

    public enum Norm { None, LayerNorm, ResidualLayerNorm }

    internal static readonly (int R, int N, int K, int OC, bool Bias)[] Shapes =
    [
        (1, 1, 1, 1, true),
        (3, 37, 64, 192, true),
        (2, 50, 256, 64, true),
        (1, 512, 64, 27, false),
        (2, 19, 45, 70, false), // K off the 32-wide chunk, OC off every tile
    ];

    public static TheoryData<string, int, int, int, int, bool, Norm, bool> ForwardCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, Norm, bool>();
        foreach (var device in Devices())
            foreach (var (r, n, k, oc, bias) in Shapes)
                foreach (var norm in new[] { Norm.None, Norm.LayerNorm, Norm.ResidualLayerNorm })
                    foreach (var gelu in new[] { false, true })
                        data.Add(device, r, n, k, oc, bias, norm, gelu);
        return TestDevices.Tagged(data);
    }

    public static TheoryData<string, int, int, int, int, bool, bool> BackwardCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, bool>();
        foreach (var device in Devices())
            foreach (var (r, n, k, oc, _) in Shapes)
                foreach (var bias in new[] { true, false })
                    foreach (var gelu in new[] { false, true })
                        data.Add(device, r, n, k, oc, bias, gelu);
        return TestDevices.Tagged(data);
    }

    internal static IEnumerable<string> Devices() => TestDevices.Present().Select(row => (string)((ITheoryDataRow)row).GetData()[0]!);

    // ------------------------------------------------------------------ kernels, loaded once per accelerator

    static readonly Dictionary<Accelerator, (Action<KernelConfig, MatMulForwardArgs> Forward, Action<KernelConfig, MatMulBackwardArgs> Backward)> Loaded = [];

    static (Action<KernelConfig, MatMulForwardArgs> Forward, Action<KernelConfig, MatMulBackwardArgs> Backward) Kernels(Accelerator accelerator)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(accelerator, out var kernels))
                Loaded[accelerator] = kernels = (accelerator.LoadStreamKernel<MatMulForwardArgs>(TiledMatMulKernels.Forward).Serialized(accelerator),
                    accelerator.LoadStreamKernel<MatMulBackwardArgs>(TiledMatMulKernels.Backward).Serialized(accelerator));
            return kernels;
        }
    }

    /// <summary>ILGPU's CPU accelerator shaped like a GPU (1,024-thread groups): the 16 × 16-thread, 64 × 64 tiles CUDA and PoCL get.</summary>
    static readonly Lazy<ComputeDevice> GpuShaped = new(() => AcceleratorCatalog.OpenGpuShapedCpu());

    // ------------------------------------------------------------------ layout of the test problems

    /// <summary>Offsets inside one replicate's parameters: W, bias (−1: none), the LayerNorm's weight and bias, and the stride P.</summary>
    sealed record Layout(long Weight, long Bias, long NormWeight, long NormBias, long Count)
    {
        public static Layout For(int k, int oc, bool bias)
        {
            long weight = 5, after = weight + (long)oc * k;
            var b = bias ? after : -1;
            if (bias) after += oc;
            var normWeight = after + 2;
            return new Layout(weight, b, normWeight, normWeight + k, normWeight + 2L * k + 3);
        }
    }

    static float[] Filled(long count, float value) => Enumerable.Repeat(value, (int)count).ToArray();

    static float[] Read(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        buffer.Accelerator.Synchronize();
        return buffer.GetAsArray1D();
    }

    static double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    static double GeluDerivative(double x)
    {
        var u = Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        var t = Math.Tanh(u);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x);
    }

    // ------------------------------------------------------------------ forward

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Forward_matches_float64_and_the_plain_kernels(string device, int R, int N, int K, int OC, bool bias, Norm norm, bool gelu)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        AssertForward(accelerator, R, N, K, OC, bias, norm, gelu, Tiled(accelerator), plain: LmTestKit.Kernels(device, LmVersion.Plain));
    }

    [Theory]
    [InlineData(3, 37, 64, 192, true, Norm.ResidualLayerNorm, true, 256)]
    [InlineData(1, 512, 64, 27, false, Norm.LayerNorm, false, 256)]
    [InlineData(2, 50, 256, 64, true, Norm.None, true, 256)]
    [InlineData(2, 50, 256, 64, true, Norm.ResidualLayerNorm, true, 256)] // 16-row tiles beside 64 columns
    [InlineData(2, 70, 1024, 9, true, Norm.ResidualLayerNorm, false, 256)] // the widest prologue row: 4-row tiles
    [InlineData(3, 37, 64, 192, true, Norm.LayerNorm, false, 32)] // 8 × 4 threads: a group that is not square
    [InlineData(2, 19, 45, 70, false, Norm.None, true, 64)]
    public void Forward_with_gpu_shaped_groups_matches_float64(int R, int N, int K, int OC, bool bias, Norm norm, bool gelu, int groupLimit) =>
        AssertForward(GpuShaped.Value.Accelerator, R, N, K, OC, bias, norm, gelu, Tiled(GpuShaped.Value.Accelerator, groupLimit), plain: null);

    /// <summary>The tiled forward's launch, groups as <see cref="TiledMatMulKernels.ForwardConfig"/> gives them under <paramref name="groupLimit"/>.</summary>
    static Action<MatMulForwardArgs> Tiled(Accelerator accelerator, int groupLimit = TiledMatMulKernels.MaxGroup) =>
        args => Kernels(accelerator).Forward(TiledMatMulKernels.ForwardConfig(accelerator, args, groupLimit), args);

    /// <summary>The tiled backward's launch (see <see cref="Tiled"/>).</summary>
    static Action<MatMulBackwardArgs> TiledBackward(Accelerator accelerator, int groupLimit = TiledMatMulKernels.MaxGroup) =>
        args => Kernels(accelerator).Backward(TiledMatMulKernels.BackwardConfig(accelerator, args, groupLimit), args);

    /// <summary>
    /// <paramref name="launch"/> (a fused forward) on one problem against float64 and, given <paramref name="plain"/>, against the
    /// plain kernels one operation after another: within the tolerances, or with <paramref name="samePlainBits"/> bit for bit.
    /// </summary>
    internal static void AssertForward(Accelerator accelerator, int R, int N, int K, int OC, bool bias, Norm norm, bool gelu,
        Action<MatMulForwardArgs> launch, LmKernels? plain, bool samePlainBits = false)
    {
        var layout = Layout.For(K, OC, bias);
        var P = layout.Count;
        // Rows far from zero (mean 3) check the centred variance; the addend moves them further.
        var x = LmTestKit.Uniforms(11 + K, (long)R * N * K).Select(v => v + 3.0f).ToArray();
        var y = LmTestKit.Uniforms(12 + N, (long)R * N * K, 0.5f);
        var parameters = LmTestKit.Uniforms(13 + OC, R * P);
        var (hasNorm, hasAddend) = (norm != Norm.None, norm == Norm.ResidualLayerNorm);
        var rows = (long)R * N;
        using var xBuffer = accelerator.Allocate1D(x);
        using var yBuffer = accelerator.Allocate1D(y);
        using var pBuffer = accelerator.Allocate1D(parameters);
        using var sum = accelerator.Allocate1D(Filled(rows * K, float.NaN));
        using var normalized = accelerator.Allocate1D(Filled(rows * K, float.NaN));
        using var mean = accelerator.Allocate1D(Filled(rows, float.NaN));
        using var rstd = accelerator.Allocate1D(Filled(rows, float.NaN));
        using var output = accelerator.Allocate1D(Filled(rows * OC, float.NaN));
        using var activated = accelerator.Allocate1D(Filled(rows * OC, float.NaN));
        var args = new MatMulForwardArgs
        {
            Input = xBuffer.View, Addend = hasAddend ? yBuffer.View : default, Sum = hasAddend ? sum.View : default,
            Parameters = pBuffer.View, Normalized = hasNorm ? normalized.View : default, Mean = hasNorm ? mean.View : default,
            Rstd = hasNorm ? rstd.View : default, Output = output.View, Activated = gelu ? activated.View : default,
            ParameterCount = P, Weight = layout.Weight, Bias = layout.Bias, NormWeight = hasNorm ? layout.NormWeight : -1,
            NormBias = hasNorm ? layout.NormBias : -1, Replicates = R, Rows = N, InputWidth = K, OutputWidth = OC,
        };
        launch(args);
        var (sumOut, normOut, meanOut, rstdOut, outOut, actOut) = (Read(sum), Read(normalized), Read(mean), Read(rstd), Read(output), Read(activated));

        // The float64 reference.
        var (sRef, nRef, meanRef, rstdRef, outRef) = (new double[rows * K], new double[rows * K], new double[rows], new double[rows], new double[rows * OC]);
        for (long row = 0; row < rows; row++)
        {
            var r = row / N;
            var w = r * P;
            for (var c = 0; c < K; c++) sRef[row * K + c] = x[row * K + c] + (hasAddend ? (double)y[row * K + c] : 0.0);
            if (hasNorm)
            {
                var m = 0.0;
                for (var c = 0; c < K; c++) m += sRef[row * K + c];
                m /= K;
                var variance = 0.0;
                for (var c = 0; c < K; c++) variance += (sRef[row * K + c] - m) * (sRef[row * K + c] - m);
                var s = 1 / Math.Sqrt(variance / K + 1e-5);
                (meanRef[row], rstdRef[row]) = (m, s);
                for (var c = 0; c < K; c++)
                    nRef[row * K + c] = (sRef[row * K + c] - m) * s * parameters[w + layout.NormWeight + c] + parameters[w + layout.NormBias + c];
            }
            var a = hasNorm ? nRef : sRef;
            for (var o = 0; o < OC; o++)
            {
                var v = bias ? (double)parameters[w + layout.Bias + o] : 0.0;
                for (var c = 0; c < K; c++) v += a[row * K + c] * parameters[w + layout.Weight + (long)o * K + c];
                outRef[row * OC + o] = v;
            }
        }
        // In the kernel's order: the sum, the LayerNorm, then the product and its activation.
        if (hasAddend) ElementsClose(sRef, sumOut, 1e-7, "sum");
        else Assert.All(sumOut, v => Assert.True(float.IsNaN(v), "Sum written without an addend"));
        if (hasNorm)
        {
            StatsClose(sRef, meanRef, rstdRef, meanOut, rstdOut, K, "float64");
            ElementsClose(nRef, normOut, Tolerance, "normalized");
        }
        else Assert.All(normOut, v => Assert.True(float.IsNaN(v), "Normalized written without the prologue"));
        RowsClose(outRef, outOut, OC, Tolerance, "output");
        var actRef = outRef.Select(Gelu).ToArray();
        if (gelu) RowsClose(actRef, actOut, OC, Tolerance, "activated");
        else Assert.All(actOut, v => Assert.True(float.IsNaN(v), "Activated written without the epilogue"));

        if (plain is null) return;
        // The plain kernels, one operation after the other.
        using var plainSum = accelerator.Allocate1D<float>(rows * K);
        using var plainNorm = accelerator.Allocate1D<float>(rows * K);
        using var plainMean = accelerator.Allocate1D<float>(rows);
        using var plainRstd = accelerator.Allocate1D<float>(rows);
        using var plainOut = accelerator.Allocate1D<float>(rows * OC);
        using var plainAct = accelerator.Allocate1D<float>(rows * OC);
        var p = new ReplicatedParameters(pBuffer.View, P);
        var stream = xBuffer.View;
        if (hasAddend)
        {
            plain.ResidualForward(xBuffer.View, yBuffer.View, plainSum.View);
            stream = plainSum.View;
        }
        var a0 = stream;
        if (hasNorm)
        {
            plain.LayerNormForward(stream, p, layout.NormWeight, layout.NormBias, plainNorm.View, plainMean.View, plainRstd.View, N, K);
            a0 = plainNorm.View;
        }
        plain.MatMulForward(a0, p, layout.Weight, layout.Bias, plainOut.View, R, N, K, OC);
        plain.GeluForward(plainOut.View, plainAct.View);
        RowsClose(LmTestKit.ToDouble(Read(plainOut)), outOut, OC, Tolerance, "output against the plain kernel");
        if (gelu) RowsClose(LmTestKit.ToDouble(Read(plainAct)), actOut, OC, Tolerance, "activated against the plain kernel");
        if (hasNorm)
        {
            var plainS = hasAddend ? Read(plainSum) : x;
            StatsClose(LmTestKit.ToDouble(plainS), LmTestKit.ToDouble(Read(plainMean)), LmTestKit.ToDouble(Read(plainRstd)), meanOut, rstdOut, K, "the plain kernel");
            ElementsClose(LmTestKit.ToDouble(Read(plainNorm)), normOut, Tolerance, "normalized against the plain kernel");
        }
        if (hasAddend) Assert.Equal(Read(plainSum), sumOut);
        if (!samePlainBits) return;
        Assert.Equal(Read(plainOut), outOut);
        if (gelu) Assert.Equal(Read(plainAct), actOut);
        if (hasNorm)
        {
            Assert.Equal(Read(plainNorm), normOut);
            Assert.Equal(Read(plainMean), meanOut);
            Assert.Equal(Read(plainRstd), rstdOut);
        }
    }

    /// <summary>Row by row: |actual − expected| ≤ tolerance·max |expected| of the row (+1e-30), naming the worst element.</summary>
    static void RowsClose(double[] expected, float[] actual, int width, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var (worst, excess) = (-1L, 0.0);
        for (long row = 0; row < expected.Length / width; row++)
        {
            var scale = 1e-30;
            for (var j = 0; j < width; j++) scale = Math.Max(scale, Math.Abs(expected[row * width + j]));
            for (var j = 0; j < width; j++)
            {
                var i = row * width + j;
                var e = float.IsNaN(actual[i]) ? double.PositiveInfinity : Math.Abs(actual[i] - expected[i]) / scale;
                if (!(e <= excess)) (worst, excess) = (i, e);
            }
        }
        if (!(excess <= tolerance))
            Assert.Fail($"{what}: index {worst} is {actual[worst]}, expected {expected[worst]} (error {excess:g3} of the row's scale > {tolerance:g3})");
        Observed(what, excess);
    }

    /// <summary>
    /// |actual − expected| ≤ tolerance·(1 + |expected|) everywhere (LmTestKit.Close's rule; that one indexes −1 when
    /// every element is exact, as the sum here is).
    /// </summary>
    static void ElementsClose(double[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var (worst, excess) = (-1, 0.0);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = float.IsNaN(actual[i]) ? double.PositiveInfinity : Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i]));
            if (!(e <= excess)) (worst, excess) = (i, e);
        }
        if (!(excess <= tolerance))
            Assert.Fail($"{what}: index {worst} is {actual[worst]}, expected {expected[worst]} (relative error {excess:g3} > {tolerance:g3})");
        Observed(what, excess);
    }

    /// <summary>Mean within StatsTolerance of the row's standard deviation, rstd within StatsTolerance of itself.</summary>
    static void StatsClose(double[] s, double[] meanRef, double[] rstdRef, float[] mean, float[] rstd, int k, string against)
    {
        for (var row = 0; row < meanRef.Length; row++)
        {
            var spread = 0.0;
            for (var c = 0; c < k; c++) spread = Math.Max(spread, Math.Abs(s[(long)row * k + c]));
            var meanError = Math.Abs(mean[row] - meanRef[row]) / spread;
            var rstdError = Math.Abs(rstd[row] - rstdRef[row]) / rstdRef[row];
            Assert.True(meanError <= StatsTolerance, $"mean of row {row} is {mean[row]}, {against} gives {meanRef[row]} (error {meanError:g3} of the row's scale)");
            Assert.True(rstdError <= StatsTolerance, $"rstd of row {row} is {rstd[row]}, {against} gives {rstdRef[row]} (relative error {rstdError:g3})");
            Observed($"mean against {against}", meanError);
            Observed($"rstd against {against}", rstdError);
        }
    }

    // ------------------------------------------------------------------ backward

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward_matches_float64_and_the_plain_kernels(string device, int R, int N, int K, int OC, bool bias, bool gelu)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        AssertBackward(accelerator, R, N, K, OC, bias, gelu, TiledBackward(accelerator), LmTestKit.Kernels(device, LmVersion.Plain));
    }

    [Theory]
    [InlineData(3, 37, 64, 192, true, true, 256)]
    [InlineData(1, 512, 64, 27, false, false, 256)]
    [InlineData(2, 50, 256, 64, true, false, 256)]
    [InlineData(2, 19, 45, 70, true, true, 256)]
    [InlineData(2, 19, 45, 70, true, false, 32)]
    public void Backward_with_gpu_shaped_groups_matches_float64(int R, int N, int K, int OC, bool bias, bool gelu, int groupLimit) =>
        AssertBackward(GpuShaped.Value.Accelerator, R, N, K, OC, bias, gelu, TiledBackward(GpuShaped.Value.Accelerator, groupLimit), plain: null);

    /// <summary>
    /// The weight gradient's float sum over N = 4,096 rows against float64, with data off zero (inputs and
    /// gradients shifted by <paramref name="shift"/>), so the sums grow with N and rounding accumulates.
    /// </summary>
    [Theory]
    [InlineData(0.0f)]
    [InlineData(1.0f)]
    public void Weight_gradient_over_4096_rows_stays_within_tolerance(float shift) =>
        AssertBackward(GpuShaped.Value.Accelerator, 1, 4096, 64, 32, true, false, TiledBackward(GpuShaped.Value.Accelerator), plain: null, shift);

    /// <summary>
    /// <paramref name="launch"/> (both gradients, with the GELU epilogue when asked) on one problem against float64 and, given
    /// <paramref name="plain"/>, against the plain kernels: within the tolerances, or with <paramref name="samePlainBits"/> bit for bit.
    /// </summary>
    internal static void AssertBackward(Accelerator accelerator, int R, int N, int K, int OC, bool bias, bool gelu,
        Action<MatMulBackwardArgs> launch, LmKernels? plain, float shift = 0, bool samePlainBits = false)
    {
        var layout = Layout.For(K, OC, bias);
        var P = layout.Count;
        var rows = (long)R * N;
        var h = LmTestKit.Uniforms(21 + K, rows * K, 3.0f);
        // The input is gelu(h) with the epilogue (as in the MLP: dW of the projection multiplies the activations), else any rows.
        var input = gelu ? h.Select(v => GeluKernels.Gelu(v)).ToArray() : LmTestKit.Uniforms(22 + K, rows * K).Select(v => v + shift).ToArray();
        var dout = LmTestKit.Uniforms(23 + OC, rows * OC).Select(v => v + shift).ToArray();
        var parameters = LmTestKit.Uniforms(24 + N, R * P);
        const float Sentinel = 123.0f;
        using var hBuffer = accelerator.Allocate1D(h);
        using var xBuffer = accelerator.Allocate1D(input);
        using var dyBuffer = accelerator.Allocate1D(dout);
        using var pBuffer = accelerator.Allocate1D(parameters);
        using var dx = accelerator.Allocate1D(Filled(rows * K, float.NaN));
        using var g = accelerator.Allocate1D(Filled(R * P, Sentinel));
        var args = new MatMulBackwardArgs
        {
            Dout = dyBuffer.View, Input = xBuffer.View, Parameters = pBuffer.View, Dinput = dx.View, GeluInput = gelu ? hBuffer.View : default,
            Gradients = g.View, ParameterCount = P, Weight = layout.Weight, Bias = layout.Bias, Replicates = R, Rows = N, InputWidth = K, OutputWidth = OC,
        };
        launch(args);
        var (dxOut, gOut) = (Read(dx), Read(g));

        var dxRef = new double[rows * K];
        for (long row = 0; row < rows; row++)
        {
            var w = row / N * P + layout.Weight;
            for (var c = 0; c < K; c++)
            {
                var v = 0.0;
                for (var o = 0; o < OC; o++) v += dout[row * OC + o] * (double)parameters[w + (long)o * K + c];
                dxRef[row * K + c] = gelu ? v * GeluDerivative(h[row * K + c]) : v;
            }
        }
        RowsClose(dxRef, dxOut, K, Tolerance, gelu ? "dinput with the gelu epilogue" : "dinput");
        for (var r = 0; r < R; r++)
        {
            var (dw, db) = (new double[OC * K], new double[OC]);
            for (long n = r * (long)N; n < (r + 1) * (long)N; n++)
                for (var o = 0; o < OC; o++)
                {
                    var d = (double)dout[n * OC + o];
                    db[o] += d;
                    for (var c = 0; c < K; c++) dw[o * K + c] += d * input[n * K + c];
                }
            TensorClose(dw, gOut.AsSpan((int)(r * P + layout.Weight), OC * K), Tolerance, $"replicate {r} dweight (N = {N})");
            if (bias) TensorClose(db, gOut.AsSpan((int)(r * P + layout.Bias), OC), Tolerance, $"replicate {r} dbias (N = {N})");
            // Nothing outside W and the bias is touched.
            for (long i = 0; i < P; i++)
            {
                var inside = i >= layout.Weight && i < layout.Weight + (long)OC * K || bias && i >= layout.Bias && i < layout.Bias + OC;
                if (!inside) Assert.Equal(Sentinel, gOut[r * P + i]);
            }
        }

        if (plain is null) return;
        using var plainDx = accelerator.Allocate1D<float>(rows * K);
        using var plainDh = accelerator.Allocate1D<float>(rows * K);
        using var plainG = accelerator.Allocate1D(Filled(R * P, Sentinel));
        var p = new ReplicatedParameters(pBuffer.View, P);
        plain.MatMulBackward(dyBuffer.View, xBuffer.View, p, layout.Weight, layout.Bias, plainDx.View, new ReplicatedParameters(plainG.View, P), R, N, K, OC);
        if (gelu) plain.GeluBackward(hBuffer.View, plainDx.View, plainDh.View);
        RowsClose(LmTestKit.ToDouble(Read(gelu ? plainDh : plainDx)), dxOut, K, Tolerance, "dinput against the plain kernels");
        var plainGradients = Read(plainG);
        for (var r = 0; r < R; r++)
        {
            TensorClose(LmTestKit.ToDouble(plainGradients.AsSpan((int)(r * P + layout.Weight), OC * K)), gOut.AsSpan((int)(r * P + layout.Weight), OC * K),
                Tolerance, $"replicate {r} dweight against the plain kernel");
            if (bias)
                TensorClose(LmTestKit.ToDouble(plainGradients.AsSpan((int)(r * P + layout.Bias), OC)), gOut.AsSpan((int)(r * P + layout.Bias), OC),
                    Tolerance, $"replicate {r} dbias against the plain kernel");
        }
        if (!samePlainBits) return;
        Assert.Equal(Read(gelu ? plainDh : plainDx), dxOut);
        Assert.Equal(plainGradients, gOut);
    }

    /// <summary>|actual − expected| ≤ tolerance·max |expected| over the tensor, naming the worst element.</summary>
    static void TensorClose(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 1e-30;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        var (worst, excess) = (-1, 0.0);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = float.IsNaN(actual[i]) ? double.PositiveInfinity : Math.Abs(actual[i] - expected[i]) / scale;
            if (!(e <= excess)) (worst, excess) = (i, e);
        }
        if (!(excess <= tolerance))
            Assert.Fail($"{what}: index {worst} is {actual[worst]}, expected {expected[worst]} (error {excess:g3} of the tensor's scale > {tolerance:g3})");
        Observed(what, excess);
    }

    /// <summary>Largest error seen per check, printed with COLLAPSE_TILED_ERRORS=1 (for the tolerances in the report).</summary>
    static void Observed(string what, double error)
    {
        if (Environment.GetEnvironmentVariable("COLLAPSE_TILED_ERRORS") == "1")
            Console.Error.WriteLine($"tiled-error\t{what}\t{error:g3}");
    }

    // ------------------------------------------------------------------ the GPU backends

    [Theory]
    [InlineData(nameof(TiledMatMulKernels.Forward))]
    [InlineData(nameof(TiledMatMulKernels.Backward))]
    public void Compiles_to_self_contained_ptx_and_to_opencl_c_that_clang_builds(string name)
    {
        var method = typeof(TiledMatMulKernels).GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
        string ptx;
        using (var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder)))
        using (var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!))
            ptx = ((PTXCompiledKernel)backend.Compile(entry, default)).PTXAssembly;
        Assert.Contains(".entry", ptx);
        Assert.Contains("bar.sync", ptx);
        Assert.Contains(".shared", ptx);
        var externs = ptx.Split('\n').Where(l => l.TrimStart().StartsWith(".extern .func", StringComparison.Ordinal)).ToList();
        Assert.True(externs.Count == 0, $"{name}'s PTX calls functions nothing defines:\n{string.Join('\n', externs)}");
        Assert.Contains("ld.shared.f32", ptx); // the tiles are read from shared memory
        string source;
        using (var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder)))
        using (var backend = new CLBackend(context, new CLCapabilityContext(true, true, true, true, true), CLDeviceVendor.Other, CLCVersion.CL20))
            source = ((CLCompiledKernel)backend.Compile(entry, default)).Source;
        Assert.Contains("barrier", source);
        OpenClCompiler.AssertBuilds($"TiledMatMulKernels.{name}", source);
    }
}
