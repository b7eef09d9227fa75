using Collapse.Kernels.Accelerators;
using ILGPU;
using Collapse.Kernels.Random;

namespace Collapse.Kernels.Lm;

/// <summary>
/// One autoregressive step for every (replicate, sequence): the next token at position
/// <c>position</c> from the logits of position − 1, at a temperature, stopping at the end token.
/// Sequences are rows of a [R][B][blockSize] token buffer that start with the start token (0); a row
/// that already holds an end token (0 at a position ≥ 1) is finished and gets 0 (padding) again.
/// </summary>
static class SamplerKernels
{
    public const int EndToken = 0;

    /// <summary>
    /// Logits are [R][B][T][V] from a forward over T = <paramref name="logitsTime"/> positions, the last
    /// being position − 1 (T = position for a forward over the whole prefix, 1 for a cached step). Temperature 0
    /// takes the argmax (the first maximum), the limit of temperature → 0. Otherwise the token is
    /// the first whose cumulative probability exceeds u·Σ, u uniform in [0, 1) with 53 bits, number
    /// (firstSequence + b)·blockSize + position of replicate firstReplicate + r's stream, so the
    /// names drawn do not depend on how sequences are batched. One item per sequence.
    /// </summary>
    public static void Step(Index1D thread, ArrayView<float> logits, ArrayView<int> tokens, RandomStream stream, int firstReplicate,
        long firstSequence, int batch, int blockSize, int position, int logitsTime, int vocab, float temperature, int stride)
    {
        var sequences = tokens.Length / blockSize;
        for (long s = thread; s < sequences; s += stride)
        {
            var row = s * blockSize;
            var finished = false;
            for (var t = 1; t < position; t++) finished |= tokens[row + t] == EndToken;
            if (finished)
            {
                tokens[row + position] = EndToken;
                continue;
            }
            var x = (s * logitsTime + logitsTime - 1) * vocab;
            var best = 0;
            var max = logits[x];
            for (var v = 1; v < vocab; v++)
                if (logits[x + v] > max)
                {
                    max = logits[x + v];
                    best = v;
                }
            if (temperature > 0)
            {
                var inverse = 1.0 / temperature;
                var sum = 0.0;
                for (var v = 0; v < vocab; v++) sum += KernelMath.Exp((logits[x + v] - max) * inverse);
                var r = s / batch;
                var b = s - r * batch;
                var block = stream.ForReplicate((uint)(firstReplicate + r)).Block((ulong)((firstSequence + b) * blockSize + position));
                var target = Philox.UniformDouble(block.X, block.Y) * sum;
                var cumulative = 0.0;
                // The last token with nonzero probability is the fallback if rounding leaves target past the total.
                for (var v = 0; v < vocab; v++)
                {
                    var p = KernelMath.Exp((logits[x + v] - max) * inverse);
                    if (p <= 0) continue;
                    best = v;
                    cumulative += p;
                    if (cumulative > target) break;
                }
            }
            tokens[row + position] = best;
        }
    }
}
