using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The transformer's light operations for the CPU path, as plain loops over pointers (llm.c's CPU
/// code, with Vector256 where a loop is element-wise). Measured on this machine, ILGPU's CPU
/// accelerator spent 0.7-2 ms per launch on these and the kernel methods called on the host
/// ~2 ns per ArrayView access; these loops run the same arithmetic as the kernels in
/// <c>Lm/</c>, in the same layouts, over a range of rows (or one replicate) per call, so the
/// launcher can split the work across cores.
/// </summary>
public static unsafe class CpuLm
{
    // ------------------------------------------------------------------ embeddings

    /// <summary>Rows [first, first + count) of one replicate: out[n] = wte[token] + wpe[t], n = b·T + t.</summary>
    public static void EncoderForward(int* tokens, int tokenStride, float* wte, float* wpe, float* output, int first, int count, int time, int width)
    {
        for (var n = first; n < first + count; n++)
        {
            var (b, t) = (n / time, n % time);
            float* e = wte + (long)tokens[(long)b * tokenStride + t] * width, p = wpe + (long)t * width, o = output + (long)n * width;
            for (var c = 0; c < width; c++) o[c] = e[c] + p[c];
        }
    }

    /// <summary>
    /// One replicate's dwte and dwpe (overwritten): every position's gradient row added to its
    /// token's and its position's rows, in position order.
    /// </summary>
    public static void EncoderBackward(int* tokens, int tokenStride, float* dout, float* dwte, float* dwpe, int vocab, int blockSize,
        int batch, int time, int width)
    {
        new Span<float>(dwte, vocab * width).Clear();
        new Span<float>(dwpe, blockSize * width).Clear();
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < time; t++)
            {
                var d = dout + ((long)b * time + t) * width;
                Add(dwte + (long)tokens[(long)b * tokenStride + t] * width, d, width);
                Add(dwpe + (long)t * width, d, width);
            }
    }

    // ------------------------------------------------------------------ layer norm

    public static void LayerNormForward(float* input, float* weight, float* bias, float* output, float* mean, float* rstd, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            var x = input + n * width;
            var m = 0.0f;
            for (var c = 0; c < width; c++) m += x[c];
            m /= width;
            var variance = 0.0f;
            for (var c = 0; c < width; c++) variance += (x[c] - m) * (x[c] - m);
            var s = 1.0f / MathF.Sqrt(variance / width + 1e-5f);
            var y = output + n * width;
            for (var c = 0; c < width; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
            mean[n] = m;
            rstd[n] = s;
        }
    }

    /// <summary>dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·w, for <paramref name="rows"/> rows.</summary>
    public static void LayerNormBackwardInput(float* dout, float* input, float* weight, float* mean, float* rstd, float* dinput, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width, dx = dinput + n * width;
            var (m, s) = (mean[n], rstd[n]);
            float meanG = 0, meanGXhat = 0;
            for (var c = 0; c < width; c++)
            {
                var g = d[c] * weight[c];
                meanG += g;
                meanGXhat += g * (x[c] - m) * s;
            }
            meanG /= width;
            meanGXhat /= width;
            for (var c = 0; c < width; c++) dx[c] += s * (d[c] * weight[c] - meanG - (x[c] - m) * s * meanGXhat);
        }
    }

    /// <summary>One replicate's dweight = Σ_rows dout·x̂ and dbias = Σ_rows dout (overwritten).</summary>
    public static void LayerNormBackwardParameters(float* dout, float* input, float* mean, float* rstd, float* dweight, float* dbias, long rows, int width)
    {
        new Span<float>(dweight, width).Clear();
        new Span<float>(dbias, width).Clear();
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width;
            var (m, s) = (mean[n], rstd[n]);
            for (var c = 0; c < width; c++)
            {
                dweight[c] += d[c] * (x[c] - m) * s;
                dbias[c] += d[c];
            }
        }
    }

    // ------------------------------------------------------------------ attention

    /// <summary>One sequence (qkv [T][3C], att [NH][T][T], out [T][C]); see AttentionKernels.Forward.</summary>
    public static void AttentionForward(float* qkv, float* att, float* output, int time, int width, int heads)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        for (var h = 0; h < heads; h++)
            for (var t = 0; t < time; t++)
            {
                var q = qkv + (long)t * 3 * width + h * hs;
                var a = att + ((long)h * time + t) * time;
                var max = float.NegativeInfinity;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var k = qkv + (long)t2 * 3 * width + width + h * hs;
                    var dot = 0.0f;
                    for (var i = 0; i < hs; i++) dot += q[i] * k[i];
                    a[t2] = dot * scale;
                    max = MathF.Max(max, a[t2]);
                }
                var sum = 0.0f;
                for (var t2 = 0; t2 <= t; t2++) sum += a[t2] = MathF.Exp(a[t2] - max);
                var inverse = 1.0f / sum;
                for (var t2 = 0; t2 < time; t2++) a[t2] = t2 <= t ? a[t2] * inverse : 0.0f;
                var y = output + (long)t * width + h * hs;
                for (var i = 0; i < hs; i++) y[i] = 0;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var v = qkv + (long)t2 * 3 * width + 2 * width + h * hs;
                    for (var i = 0; i < hs; i++) y[i] += a[t2] * v[i];
                }
            }
    }

    /// <summary>
    /// One sequence's dqkv (overwritten) from dout [T][C], as the reference computes it: per query
    /// row, datt, the softmax backward, then the contributions to dq, dk and dv.
    /// <paramref name="datt"/>: scratch for T floats.
    /// </summary>
    public static void AttentionBackward(float* qkv, float* att, float* dout, float* dqkv, int time, int width, int heads, float* datt)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        new Span<float>(dqkv, time * 3 * width).Clear();
        for (var h = 0; h < heads; h++)
            for (var t = 0; t < time; t++)
            {
                var a = att + ((long)h * time + t) * time;
                var dy = dout + (long)t * width + h * hs;
                var weighted = 0.0f;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var v = qkv + (long)t2 * 3 * width + 2 * width + h * hs;
                    var dv = dqkv + (long)t2 * 3 * width + 2 * width + h * hs;
                    var d = 0.0f;
                    for (var i = 0; i < hs; i++)
                    {
                        d += dy[i] * v[i];
                        dv[i] += a[t2] * dy[i];
                    }
                    datt[t2] = d;
                    weighted += a[t2] * d;
                }
                var q = qkv + (long)t * 3 * width + h * hs;
                var dq = dqkv + (long)t * 3 * width + h * hs;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var dpre = a[t2] * (datt[t2] - weighted) * scale;
                    var k = qkv + (long)t2 * 3 * width + width + h * hs;
                    var dk = dqkv + (long)t2 * 3 * width + width + h * hs;
                    for (var i = 0; i < hs; i++)
                    {
                        dq[i] += dpre * k[i];
                        dk[i] += dpre * q[i];
                    }
                }
            }
    }

    // ------------------------------------------------------------------ element-wise

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
    public static void GeluForward(float* input, float* output, long count)
    {
        long i = 0;
        var (scale, cubic) = (Vector256.Create(GeluScale), Vector256.Create(GeluCubic));
        for (; i + 8 <= count; i += 8)
        {
            var x = Vector256.Load(input + i);
            var (s, _) = HalfOnePlusTanh(scale * (x + cubic * x * x * x));
            (x * s).Store(output + i);
        }
        for (; i < count; i++) output[i] = Lm.GeluKernels.Gelu(input[i]);
    }

    /// <summary>dinput = gelu'(x)·dout (overwrites), gelu'(x) = s + 2x·s(1 − s)·√(2/π)(1 + 3·0.044715x²).</summary>
    public static void GeluBackward(float* input, float* dout, float* dinput, long count)
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
        for (; i < count; i++) dinput[i] = Lm.GeluKernels.Derivative(input[i]) * dout[i];
    }

    public static void Residual(float* a, float* b, float* output, long count)
    {
        long i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(output + i);
        for (; i < count; i++) output[i] = a[i] + b[i];
    }

    static void Add(float* target, float* source, int count)
    {
        var i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(target + i) + Vector256.Load(source + i)).Store(target + i);
        for (; i < count; i++) target[i] += source[i];
    }

    // ------------------------------------------------------------------ optimizer

    /// <summary>Σ g² over one replicate's gradient, in double.</summary>
    public static double SquaredNorm(float* gradients, long count)
    {
        var sum = 0.0;
        for (long i = 0; i < count; i++) sum += (double)gradients[i] * gradients[i];
        return sum;
    }

    /// <summary>AdamW over a range of one replicate's parameters; see AdamWKernels.Update.</summary>
    public static void AdamW(float* parameters, float* gradients, float* m, float* v, long count, float scale, Lm.AdamWStep step)
    {
        for (long i = 0; i < count; i++)
        {
            var g = gradients[i] * scale;
            var p = parameters[i] - step.LearningRate * step.WeightDecay * parameters[i];
            var mi = step.Beta1 * m[i] + (1.0f - step.Beta1) * g;
            var vi = step.Beta2 * v[i] + (1.0f - step.Beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            parameters[i] = p - step.LearningRate * (mi / step.Correction1) / (MathF.Sqrt(vi / step.Correction2) + step.Epsilon);
        }
    }
}
