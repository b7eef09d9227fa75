using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGPU;

namespace Collapse.Kernels.Lm;

// GPT-2's GELU, the tanh approximation makemore's NewGELU uses:
// gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), element-wise over any [R][…] buffer; and the
// residual connection's forward, out = a + b. The residual's backward needs no kernel: the residual
// stream's gradient buffer is shared by both branches, and the branch's LayerNorm backward adds into it.

/// <summary>Arguments of the element-wise kernels: out = f(a) or f(a, b), all of one length.</summary>
public struct ElementwiseArgs
{
    public ArrayView<float> A, B, Output;
}

static class GeluKernels
{
    const float Scale = 0.7978845608028654f; // √(2/π)
    const float Cubic = 0.044715f;

    /// <summary>
    /// s = (1 + tanh u)/2 and 1 − s, without the cancellation of 1 + tanh u as u → −∞ (where GELU and its
    /// derivative are tiny but not 0, and a device's tanh a few ulps off 1 left nothing of them: PoCL's
    /// gave 1.6e-6 for a gradient of 9e-10). e = e^{−2|u|} ≤ 1, so nothing overflows; the CPU's SIMD path
    /// uses the same identities.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void HalfOnePlusTanh(float u, out float s, out float oneMinusS)
    {
        var e = MathF.Exp(-2.0f * MathF.Abs(u));
        var near = 1.0f / (1.0f + e);
        var far = e * near;
        s = u >= 0 ? near : far;
        oneMinusS = u >= 0 ? far : near;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x)
    {
        HalfOnePlusTanh(Scale * (x + Cubic * x * x * x), out var s, out _);
        return x * s;
    }

    /// <summary>gelu'(x) = s + 2x·s(1 − s)·√(2/π)(1 + 3·0.044715x²).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x)
    {
        HalfOnePlusTanh(Scale * (x + Cubic * x * x * x), out var s, out var oneMinusS);
        return s + 2.0f * x * s * oneMinusS * Scale * (1.0f + 3.0f * Cubic * x * x);
    }

    /// <summary>output = gelu(a).</summary>
    public static void Forward(Index1D thread, ElementwiseArgs a, int stride)
    {
        for (long i = thread; i < a.Output.Length; i += stride) a.Output[i] = Gelu(a.A[i]);
    }

    /// <summary>output = gelu'(a)·b (b = dout; output may be b itself); overwrites.</summary>
    public static void Backward(Index1D thread, ElementwiseArgs a, int stride)
    {
        for (long i = thread; i < a.Output.Length; i += stride) a.Output[i] = Derivative(a.A[i]) * a.B[i];
    }
}

static class ResidualKernels
{
    public static void Forward(Index1D thread, ElementwiseArgs a, int stride)
    {
        for (long i = thread; i < a.Output.Length; i += stride) a.Output[i] = a.A[i] + a.B[i];
    }
}

/// <summary>The element-wise operations on the CPU path, eight lanes at a time.</summary>
static unsafe class GeluCpu
{
    const float GeluScale = 0.7978845608028654f, GeluCubic = 0.044715f;

    /// <summary>
    /// e^x in float32, eight lanes (Cephes' expf: x = k·ln 2 + r with a two-part ln 2, e^r by its
    /// degree-7 minimax polynomial, 2^k built in the exponent bits); about 1 ulp. x is clamped to
    /// [−87, 88], inside float's normal range. .NET's Vector256.Exp ran ~20 ns per number here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Avx.Max(Avx.Min(x, Vector256.Create(88.0f)), Vector256.Create(-87.0f));
        var k = Avx.RoundToNearestInteger(x * Vector256.Create(1.44269504088896341f));
        var r = Fma.MultiplyAddNegated(k, Vector256.Create(0.693359375f), x);
        r = Fma.MultiplyAddNegated(k, Vector256.Create(-2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500E-4f);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.3981999507E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        var e = Fma.MultiplyAdd(p, r * r, r + Vector256<float>.One);
        var twoK = Avx2.ShiftLeftLogical(Avx.ConvertToVector256Int32(k) + Vector256.Create(127), 23).AsSingle();
        return e * twoK;
    }

    /// <summary>
    /// s = (1 + tanh u)/2 = 1/(1 + e^{−2u}) and 1 − s = e^{−2u}·s, computed without the cancellation of
    /// 1 + tanh u near u → −∞ (where GELU and its derivative are tiny but not 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> S, Vector256<float> OneMinusS) HalfOnePlusTanh(Vector256<float> u)
    {
        var e = Exp(Vector256.Create(-2.0f) * u);
        var s = Vector256<float>.One / (Vector256<float>.One + e);
        return (s, e * s);
    }

    /// <summary>gelu(x) = x·s, s = (1 + tanh(√(2/π)(x + 0.044715x³)))/2.</summary>
    public static void Forward(float* input, float* output, long count)
    {
        long i = 0;
        var (scale, cubic) = (Vector256.Create(GeluScale), Vector256.Create(GeluCubic));
        for (; i + 8 <= count; i += 8)
        {
            var x = Vector256.Load(input + i);
            var (s, _) = HalfOnePlusTanh(scale * (x + cubic * x * x * x));
            (x * s).Store(output + i);
        }
        for (; i < count; i++) output[i] = GeluKernels.Gelu(input[i]);
    }

    /// <summary>dinput = gelu'(x)·dout (overwrites), gelu'(x) = s + 2x·s(1 − s)·√(2/π)(1 + 3·0.044715x²).</summary>
    public static void Backward(float* input, float* dout, float* dinput, long count)
    {
        long i = 0;
        var (scale, cubic, cubic3) = (Vector256.Create(GeluScale), Vector256.Create(GeluCubic), Vector256.Create(3 * GeluCubic));
        var (one, two) = (Vector256<float>.One, Vector256.Create(2.0f));
        for (; i + 8 <= count; i += 8)
        {
            var x = Vector256.Load(input + i);
            var (s, oneMinusS) = HalfOnePlusTanh(scale * (x + cubic * x * x * x));
            var derivative = s + two * x * s * oneMinusS * scale * (one + cubic3 * x * x);
            (derivative * Vector256.Load(dout + i)).Store(dinput + i);
        }
        for (; i < count; i++) dinput[i] = GeluKernels.Derivative(input[i]) * dout[i];
    }

    public static void Residual(float* a, float* b, float* output, long count)
    {
        long i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(output + i);
        for (; i < count; i++) output[i] = a[i] + b[i];
    }

    public static void Add(float* target, float* source, int count)
    {
        var i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(target + i) + Vector256.Load(source + i)).Store(target + i);
        for (; i < count; i++) target[i] += source[i];
    }
}

public sealed unsafe partial class LmKernels
{
    public void GeluForward(ArrayView<float> input, ArrayView<float> output) => geluForwardOp(new ElementwiseArgs { A = input, Output = output });

    /// <summary>dinput = gelu'(input)·dout; dinput may be dout itself.</summary>
    public void GeluBackward(ArrayView<float> input, ArrayView<float> dout, ArrayView<float> dinput) =>
        geluBackwardOp(new ElementwiseArgs { A = input, B = dout, Output = dinput });

    public void ResidualForward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) =>
        residualForwardOp(new ElementwiseArgs { A = a, B = b, Output = output });

    void GeluForwardCpu(ElementwiseArgs a)
    {
        float* x = Ptr(a.A), y = Ptr(a.Output);
        HostRanges(a.Output.Length, 8 * a.Output.Length, (first, n) => GeluCpu.Forward(x + first, y + first, n));
    }

    void GeluBackwardCpu(ElementwiseArgs a)
    {
        float* x = Ptr(a.A), dy = Ptr(a.B), dx = Ptr(a.Output);
        HostRanges(a.Output.Length, 8 * a.Output.Length, (first, n) => GeluCpu.Backward(x + first, dy + first, dx + first, n));
    }

    void ResidualForwardCpu(ElementwiseArgs a)
    {
        float* x = Ptr(a.A), y = Ptr(a.B), z = Ptr(a.Output);
        HostRanges(a.Output.Length, a.Output.Length, (first, n) => GeluCpu.Residual(x + first, y + first, z + first, n));
    }

    void GeluForwardPlain(ElementwiseArgs a) => Launch(geluForward, a.Output.Length, a);

    void GeluBackwardPlain(ElementwiseArgs a) => Launch(geluBackward, a.Output.Length, a);

    void ResidualForwardPlain(ElementwiseArgs a) => Launch(residualForward, a.Output.Length, a);
}
