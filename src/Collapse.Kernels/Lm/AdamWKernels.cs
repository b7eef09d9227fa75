using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>One AdamW step's scalars, the same for every replicate (their step counts agree).</summary>
public struct AdamWStep
{
    public float LearningRate, Beta1, Beta2, Epsilon, WeightDecay;
    /// <summary>1 − β1^t and 1 − β2^t, computed in double on the host.</summary>
    public float Correction1, Correction2;
}

/// <summary>
/// torch.optim.AdamW over the [R][P] parameter vector, with each replicate's gradient scaled by its
/// clip factor, and the global gradient norm per replicate that the clip factor comes from.
/// </summary>
static class AdamWKernels
{
    /// <summary>Gradient numbers per partial sum of the norm: the partials are R·⌈P/Chunk⌉ items.</summary>
    public const int NormChunk = 4096;

    /// <summary>partials[r][k] = Σ g² over chunk k of replicate r (double). Items: R·chunks.</summary>
    public static void NormPartials(Index1D thread, ArrayView<float> gradients, ArrayView<double> partials, long parameterCount,
        int chunks, int stride)
    {
        for (long item = thread; item < partials.Length; item += stride)
        {
            var r = item / chunks;
            var first = (item - r * chunks) * NormChunk;
            var end = Math.Min(first + NormChunk, parameterCount);
            var sum = 0.0;
            for (var i = first; i < end; i++)
            {
                double g = gradients[r * parameterCount + i];
                sum += g * g;
            }
            partials[item] = sum;
        }
    }

    /// <summary>
    /// norms[r] = √Σ partials; scale[r] = maxNorm/(norm + 1e-6) when that is below 1 (torch's
    /// clip_grad_norm_), else 1; maxNorm ≤ 0 means no clipping. One item per replicate.
    /// </summary>
    public static void ClipScale(Index1D thread, ArrayView<double> partials, ArrayView<double> norms, ArrayView<float> scale,
        int chunks, double maxNorm, int stride)
    {
        for (long r = thread; r < norms.Length; r += stride)
        {
            var sum = 0.0;
            for (var k = 0; k < chunks; k++) sum += partials[r * chunks + k];
            var norm = Math.Sqrt(sum);
            norms[r] = norm;
            var coefficient = maxNorm / (norm + 1e-6);
            scale[r] = maxNorm > 0 && coefficient < 1 ? (float)coefficient : 1.0f;
        }
    }

    /// <summary>
    /// p −= lr·wd·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; p −= lr·(m/c1)/(√(v/c2) + eps), with
    /// g = gradient·scale[r]. Items: R·P.
    /// </summary>
    public static void Update(Index1D thread, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> scale, AdamWStep step, long parameterCount, int stride)
    {
        for (long i = thread; i < parameters.Length; i += stride)
        {
            var g = gradients[i] * scale[i / parameterCount];
            var p = parameters[i] - step.LearningRate * step.WeightDecay * parameters[i];
            var mi = step.Beta1 * m[i] + (1.0f - step.Beta1) * g;
            var vi = step.Beta2 * v[i] + (1.0f - step.Beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            parameters[i] = p - step.LearningRate * (mi / step.Correction1) / (MathF.Sqrt(vi / step.Correction2) + step.Epsilon);
        }
    }
}
