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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x) => 0.5f * x * (1.0f + MathF.Tanh(Scale * (x + Cubic * x * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x)
    {
        var tanh = MathF.Tanh(Scale * (x + Cubic * x * x * x));
        return 0.5f * (1.0f + tanh) + 0.5f * x * (1.0f - tanh * tanh) * Scale * (1.0f + 3.0f * Cubic * x * x);
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
