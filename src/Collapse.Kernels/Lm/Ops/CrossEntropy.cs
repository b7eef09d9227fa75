using ILGPU;

namespace Collapse.Kernels.Lm;

// Softmax cross-entropy with an ignored target value (−1: positions after the end of a name,
// makemore's padding), batched over replicates. Logits and targets are [R][N][V] and [R][N]. The
// loss of a replicate is the mean over its predicted positions, torch's ignore_index mean. The CPU
// path runs these kernels on host threads: they are light next to the matrix products.

/// <summary>Arguments of the cross-entropy kernels.</summary>
public struct CrossEntropyArgs
{
    /// <summary>Logits [R][N][V] (replaced by their gradient when <see cref="WriteGradient"/> ≠ 0) and targets [R][N].</summary>
    public ArrayView<float> Logits;
    public ArrayView<int> Targets;
    /// <summary>Per replicate: predicted positions, their inverse, and the sum of the losses; per row: the loss.</summary>
    public ArrayView<int> Counts;
    public ArrayView<float> Scale, Losses;
    public ArrayView<double> Sums;
    public long RowsPerReplicate;
    public int Vocab, WriteGradient;
}

static class CrossEntropyKernels
{
    public const int Ignore = -1;

    /// <summary>
    /// counts[r] = predicted positions of replicate r, scale[r] = 1/counts[r] (0 when none), the
    /// factor of d(mean loss)/dlogits. One item per replicate.
    /// </summary>
    public static void CountTargets(Index1D thread, CrossEntropyArgs a, int stride)
    {
        for (long r = thread; r < a.Counts.Length; r += stride)
        {
            var count = 0;
            for (long n = 0; n < a.RowsPerReplicate; n++)
                if (a.Targets[r * a.RowsPerReplicate + n] != Ignore) count++;
            a.Counts[r] = count;
            a.Scale[r] = count > 0 ? 1.0f / count : 0.0f;
        }
    }

    /// <summary>
    /// Per row: loss = log Σ exp(logit) − logit[target] (0 on ignored rows) into losses, and, when
    /// WriteGradient ≠ 0, the logits are overwritten by their gradient (softmax − onehot(target))·scale[r]
    /// (0 on ignored rows): forward and backward fused, so the probabilities are never stored. One item per row.
    /// </summary>
    public static void ForwardBackward(Index1D thread, CrossEntropyArgs a, int stride)
    {
        var (logits, targets, scale, losses, vocab) = (a.Logits, a.Targets, a.Scale, a.Losses, a.Vocab);
        for (long row = thread; row < losses.Length; row += stride)
        {
            var x = row * vocab;
            var max = float.NegativeInfinity;
            for (var v = 0; v < vocab; v++) max = MathF.Max(max, logits[x + v]);
            var sum = 0.0f;
            for (var v = 0; v < vocab; v++) sum += MathF.Exp(logits[x + v] - max);
            var target = targets[row];
            losses[row] = target == Ignore ? 0.0f : MathF.Log(sum) + max - logits[x + target];
            if (a.WriteGradient == 0) continue;
            var factor = target == Ignore ? 0.0f : scale[row / a.RowsPerReplicate] / sum;
            for (var v = 0; v < vocab; v++)
            {
                var p = MathF.Exp(logits[x + v] - max) * factor;
                logits[x + v] = v == target ? p - scale[row / a.RowsPerReplicate] : p;
            }
        }
    }

    /// <summary>sums[r] = Σ_n losses[r][n] in double (ignored rows hold 0). One item per replicate.</summary>
    public static void SumLosses(Index1D thread, CrossEntropyArgs a, int stride)
    {
        for (long r = thread; r < a.Sums.Length; r += stride)
        {
            var sum = 0.0;
            for (long n = 0; n < a.RowsPerReplicate; n++) sum += a.Losses[r * a.RowsPerReplicate + n];
            a.Sums[r] = sum;
        }
    }
}

public sealed partial class LmKernels
{
    /// <summary>
    /// The loss of a forward with targets: counts and scale per replicate, losses [R][N], their sums per replicate, and
    /// with <paramref name="writeGradient"/> d(mean loss)/dlogits in place of the logits.
    /// </summary>
    public void CrossEntropyLoss(ArrayView<float> logits, ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale,
        ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate, int vocab, bool writeGradient)
    {
        CountTargets(targets, counts, scale, rowsPerReplicate);
        CrossEntropy(logits, targets, scale, losses, rowsPerReplicate, vocab, writeGradient);
        SumLosses(losses, sums, rowsPerReplicate);
    }

    /// <summary>counts[r] and scale[r] = 1/counts[r] from targets [R][N].</summary>
    public void CountTargets(ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale, long rowsPerReplicate) =>
        Launch(countTargets, counts.Length, new CrossEntropyArgs { Targets = targets, Counts = counts, Scale = scale, RowsPerReplicate = rowsPerReplicate });

    /// <summary>losses [R][N]; with <paramref name="writeGradient"/>, logits become d(mean loss)/dlogits.</summary>
    public void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> scale, ArrayView<float> losses,
        long rowsPerReplicate, int vocab, bool writeGradient) =>
        Launch(crossEntropy, losses.Length, new CrossEntropyArgs
        {
            Logits = logits, Targets = targets, Scale = scale, Losses = losses, RowsPerReplicate = rowsPerReplicate, Vocab = vocab,
            WriteGradient = writeGradient ? 1 : 0,
        });

    /// <summary>sums[r] = Σ_n losses[r][n], in double.</summary>
    public void SumLosses(ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate) =>
        Launch(sumLosses, sums.Length, new CrossEntropyArgs { Losses = losses, Sums = sums, RowsPerReplicate = rowsPerReplicate });
}
