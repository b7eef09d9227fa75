using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using ILGPU.Runtime;
using ILGPU;

namespace Collapse.Kernels.Lm;

// torch.optim.AdamW over the [R][P] parameter vector, with each replicate's gradient scaled by its
// clip factor, and the global gradient norm per replicate that the clip factor comes from.

/// <summary>One AdamW step's scalars, the same for every replicate (their step counts agree).</summary>
public struct AdamWStep
{
    public float LearningRate, Beta1, Beta2, Epsilon, WeightDecay;
    /// <summary>1 − β1^t and 1 − β2^t, computed in double on the host.</summary>
    public float Correction1, Correction2;
}

/// <summary>Arguments of the optimizer's kernels.</summary>
public struct AdamWArgs
{
    /// <summary>Parameters, gradients and the two moments, all [R][P].</summary>
    public ArrayView<float> Parameters, Gradients, M, V;
    /// <summary>Per replicate: the clip factor, the norm, and the norm's partial sums [R][chunks].</summary>
    public ArrayView<float> Scale;
    public ArrayView<double> Norms, Partials;
    public long ParameterCount;
    public int Chunks;
    public double MaxNorm;
    public AdamWStep Step;
}

static class AdamWKernels
{
    /// <summary>Gradient numbers per partial sum of the norm: the partials are R·⌈P/Chunk⌉ items.</summary>
    public const int NormChunk = 4096;

    /// <summary>partials[r][k] = Σ g² over chunk k of replicate r (double). Items: R·chunks.</summary>
    public static void NormPartials(Index1D thread, AdamWArgs a, int stride)
    {
        for (long item = thread; item < a.Partials.Length; item += stride)
        {
            var r = item / a.Chunks;
            var first = (item - r * a.Chunks) * NormChunk;
            var end = Math.Min(first + NormChunk, a.ParameterCount);
            var sum = 0.0;
            for (var i = first; i < end; i++)
            {
                double g = a.Gradients[r * a.ParameterCount + i];
                sum += g * g;
            }
            a.Partials[item] = sum;
        }
    }

    /// <summary>
    /// norms[r] = √Σ partials; scale[r] = maxNorm/(norm + 1e-6) when that is below 1 (torch's
    /// clip_grad_norm_), else 1; maxNorm ≤ 0 means no clipping. One item per replicate.
    /// </summary>
    public static void ClipScale(Index1D thread, AdamWArgs a, int stride)
    {
        for (long r = thread; r < a.Norms.Length; r += stride)
        {
            var sum = 0.0;
            for (var k = 0; k < a.Chunks; k++) sum += a.Partials[r * a.Chunks + k];
            var norm = Math.Sqrt(sum);
            a.Norms[r] = norm;
            var coefficient = a.MaxNorm / (norm + 1e-6);
            a.Scale[r] = a.MaxNorm > 0 && coefficient < 1 ? (float)coefficient : 1.0f;
        }
    }

    /// <summary>
    /// p −= lr·wd·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr·(m/c1)/(√(v/c2) + eps), with
    /// g = gradient·scale[r]. Items: R·P.
    /// </summary>
    public static void Update(Index1D thread, AdamWArgs a, int stride)
    {
        var (parameters, gradients, m, v, step) = (a.Parameters, a.Gradients, a.M, a.V, a.Step);
        for (long i = thread; i < parameters.Length; i += stride)
        {
            var (mi, vi) = (m[i], v[i]);
            parameters[i] = Updated(parameters[i], gradients[i] * a.Scale[i / a.ParameterCount], ref mi, ref vi, step);
            m[i] = mi;
            v[i] = vi;
        }
    }

    /// <summary>One parameter's step, shared by the kernel and the CPU path (the same operations in the same order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Updated(float parameter, float g, ref float m, ref float v, AdamWStep step)
    {
        var p = parameter - step.LearningRate * step.WeightDecay * parameter;
        m = step.Beta1 * m + (1.0f - step.Beta1) * g;
        v = step.Beta2 * v + (1.0f - step.Beta2) * g * g;
        return p - step.LearningRate * (m / step.Correction1) / (MathF.Sqrt(v / step.Correction2) + step.Epsilon);
    }
}

/// <summary>The optimizer on the CPU path: the kernels' arithmetic over a range of one replicate's numbers.</summary>
static unsafe class AdamWCpu
{
    /// <summary>Σ g² over a range of one replicate's gradient, in double.</summary>
    public static double SquaredNorm(float* gradients, long count)
    {
        var sum = 0.0;
        for (long i = 0; i < count; i++) sum += (double)gradients[i] * gradients[i];
        return sum;
    }

    /// <summary>
    /// AdamW over a range of one replicate's parameters; see AdamWKernels.Update. Sixteen (or eight) lanes at a time with
    /// <see cref="AdamWKernels.Updated"/>'s operations in its order (each correctly rounded, none fused), so the same bits
    /// as the scalar step (tested); its two divisions and square root per number made the scalar loop a twentieth of a step.
    /// </summary>
    public static void Update(float* parameters, float* gradients, float* m, float* v, long count, float scale, AdamWStep step)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
            {
                var (p, mi, vi) = Updated(Vector512.Load(parameters + i), Vector512.Load(gradients + i) * scale, Vector512.Load(m + i), Vector512.Load(v + i), step);
                p.Store(parameters + i);
                mi.Store(m + i);
                vi.Store(v + i);
            }
        for (; i + 8 <= count; i += 8)
        {
            var (p, mi, vi) = Updated(Vector256.Load(parameters + i), Vector256.Load(gradients + i) * scale, Vector256.Load(m + i), Vector256.Load(v + i), step);
            p.Store(parameters + i);
            mi.Store(m + i);
            vi.Store(v + i);
        }
        for (; i < count; i++) parameters[i] = AdamWKernels.Updated(parameters[i], gradients[i] * scale, ref m[i], ref v[i], step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float>, Vector512<float>, Vector512<float>) Updated(Vector512<float> parameter, Vector512<float> g, Vector512<float> m, Vector512<float> v, AdamWStep step)
    {
        var p = parameter - step.LearningRate * step.WeightDecay * parameter;
        m = step.Beta1 * m + (1.0f - step.Beta1) * g;
        v = step.Beta2 * v + (1.0f - step.Beta2) * g * g;
        return (p - step.LearningRate * (m / step.Correction1) / (Vector512.Sqrt(v / step.Correction2) + Vector512.Create(step.Epsilon)), m, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float>, Vector256<float>, Vector256<float>) Updated(Vector256<float> parameter, Vector256<float> g, Vector256<float> m, Vector256<float> v, AdamWStep step)
    {
        var p = parameter - step.LearningRate * step.WeightDecay * parameter;
        m = step.Beta1 * m + (1.0f - step.Beta1) * g;
        v = step.Beta2 * v + (1.0f - step.Beta2) * g * g;
        return (p - step.LearningRate * (m / step.Correction1) / (Vector256.Sqrt(v / step.Correction2) + Vector256.Create(step.Epsilon)), m, v);
    }
}

public sealed unsafe partial class LmKernels
{
    /// <summary>Partial sums per replicate for <see cref="GradientNorm"/>: R·⌈P/chunk⌉ doubles.</summary>
    public static long NormPartialCount(int replicates, long parameterCount) =>
        replicates * ((parameterCount + AdamWKernels.NormChunk - 1) / AdamWKernels.NormChunk);

    /// <summary>norms[r] = ‖g_r‖ and scale[r], the clip factor for <paramref name="maxNorm"/> (≤ 0: always 1).</summary>
    public void GradientNorm(ReplicatedParameters gradients, ArrayView<double> partials, ArrayView<double> norms, ArrayView<float> scale, double maxNorm) =>
        gradientNormOp(new AdamWArgs
        {
            Gradients = gradients.View, Partials = partials, Norms = norms, Scale = scale, ParameterCount = gradients.Count,
            Chunks = (int)((gradients.Count + AdamWKernels.NormChunk - 1) / AdamWKernels.NormChunk), MaxNorm = maxNorm,
        });

    /// <summary>One AdamW step (step ≥ 1) over every replicate, gradients scaled by scale[r].</summary>
    public void AdamW(ReplicatedParameters parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> scale, GptTraining settings, int step) =>
        adamWOp(new AdamWArgs
        {
            Parameters = parameters.View, Gradients = gradients, M = m, V = v, Scale = scale, ParameterCount = parameters.Count,
            Step = new AdamWStep
            {
                LearningRate = (float)settings.LearningRateAt(step), Beta1 = (float)settings.Beta1, Beta2 = (float)settings.Beta2,
                Epsilon = (float)settings.Epsilon, WeightDecay = (float)settings.WeightDecay,
                Correction1 = (float)(1 - Math.Pow(settings.Beta1, step)), Correction2 = (float)(1 - Math.Pow(settings.Beta2, step)),
            },
        });

    /// <summary>One partial sum per chunk on host threads, as the kernel computes them, then the same clip kernel.</summary>
    void GradientNormCpu(AdamWArgs a)
    {
        float* g = Ptr(a.Gradients);
        var p = (double*)a.Partials.LoadEffectiveAddressAsPtr();
        var (count, chunks) = (a.ParameterCount, a.Chunks);
        HostRanges(a.Partials.Length, a.Gradients.Length, (first, n) =>
        {
            for (var item = first; item < first + n; item++)
            {
                var (r, k) = (item / chunks, item % chunks);
                var start = k * AdamWKernels.NormChunk;
                p[item] = AdamWCpu.SquaredNorm(g + r * count + start, Math.Min(AdamWKernels.NormChunk, count - start));
            }
        });
        Launch(clipScale, a.Norms.Length, a);
    }

    void GradientNormPlain(AdamWArgs a)
    {
        Launch(normPartials, a.Partials.Length, a);
        Launch(clipScale, a.Norms.Length, a);
    }

    void AdamWCpuRanges(AdamWArgs a)
    {
        float* p = Ptr(a.Parameters), g = Ptr(a.Gradients), m1 = Ptr(a.M), m2 = Ptr(a.V), sc = Ptr(a.Scale);
        var (count, total, step) = (a.ParameterCount, a.Parameters.Length, a.Step);
        HostRanges(total, 4 * total, (first, n) => ForEachReplicate(first, n, count, (r, i, k) =>
        {
            var at = r * count + i;
            AdamWCpu.Update(p + at, g + at, m1 + at, m2 + at, k, sc[r], step);
        }));
    }

    void AdamWPlain(AdamWArgs a) => Launch(adamW, a.Parameters.Length, a);
}
