using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// Softmax cross-entropy with an ignored target value (−1: positions after the end of a name,
/// makemore's padding), batched over replicates. Logits and targets are [R][N][V] and [R][N].
/// The loss of a replicate is the mean over its predicted positions, torch's ignore_index mean.
/// </summary>
static class CrossEntropyKernels
{
    public const int Ignore = -1;

    /// <summary>
    /// counts[r] = predicted positions of replicate r, scale[r] = 1/counts[r] (0 when none), the
    /// factor of d(mean loss)/dlogits. One item per replicate.
    /// </summary>
    public static void CountTargets(Index1D thread, ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale,
        long rowsPerReplicate, int stride)
    {
        for (long r = thread; r < counts.Length; r += stride)
        {
            var count = 0;
            for (long n = 0; n < rowsPerReplicate; n++)
                if (targets[r * rowsPerReplicate + n] != Ignore) count++;
            counts[r] = count;
            scale[r] = count > 0 ? 1.0f / count : 0.0f;
        }
    }

    /// <summary>
    /// Per row: loss = log Σ exp(logit) − logit[target] (0 on ignored rows) into losses, and, when
    /// <paramref name="writeGradient"/> ≠ 0, the logits are overwritten by their gradient
    /// (softmax − onehot(target))·scale[r] (0 on ignored rows): forward and backward fused, so the
    /// probabilities are never stored. One item per row.
    /// </summary>
    public static void ForwardBackward(Index1D thread, ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> scale,
        ArrayView<float> losses, long rowsPerReplicate, int vocab, int writeGradient, int stride)
    {
        for (long row = thread; row < losses.Length; row += stride)
        {
            var x = row * vocab;
            var max = float.NegativeInfinity;
            for (var v = 0; v < vocab; v++) max = MathF.Max(max, logits[x + v]);
            var sum = 0.0f;
            for (var v = 0; v < vocab; v++) sum += MathF.Exp(logits[x + v] - max);
            var target = targets[row];
            losses[row] = target == Ignore ? 0.0f : MathF.Log(sum) + max - logits[x + target];
            if (writeGradient == 0) continue;
            var factor = target == Ignore ? 0.0f : scale[row / rowsPerReplicate] / sum;
            for (var v = 0; v < vocab; v++)
            {
                var p = MathF.Exp(logits[x + v] - max) * factor;
                logits[x + v] = v == target ? p - scale[row / rowsPerReplicate] : p;
            }
        }
    }

    /// <summary>sums[r] = Σ_n losses[r][n] in double (ignored rows hold 0). One item per replicate.</summary>
    public static void SumLosses(Index1D thread, ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate, int stride)
    {
        for (long r = thread; r < sums.Length; r += stride)
        {
            var sum = 0.0;
            for (long n = 0; n < rowsPerReplicate; n++) sum += losses[r * rowsPerReplicate + n];
            sums[r] = sum;
        }
    }
}
