using System.Runtime.CompilerServices;
using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// GPT-2's GELU, the tanh approximation makemore's NewGELU uses:
/// gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Element-wise over any [R][…] buffer.
/// </summary>
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

    public static void Forward(Index1D thread, ArrayView<float> input, ArrayView<float> output, int stride)
    {
        for (long i = thread; i < output.Length; i += stride) output[i] = Gelu(input[i]);
    }

    /// <summary>dinput = gelu'(x)·dout; overwrites.</summary>
    public static void Backward(Index1D thread, ArrayView<float> input, ArrayView<float> dout, ArrayView<float> dinput, int stride)
    {
        for (long i = thread; i < dinput.Length; i += stride) dinput[i] = Derivative(input[i]) * dout[i];
    }
}

/// <summary>
/// The residual connection's forward, out = a + b. Its backward needs no kernel: the residual
/// stream's gradient buffer is shared by both branches, and the branch's LayerNorm backward adds into it.
/// </summary>
static class ResidualKernels
{
    public static void Forward(Index1D thread, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output, int stride)
    {
        for (long i = thread; i < output.Length; i += stride) output[i] = a[i] + b[i];
    }
}
