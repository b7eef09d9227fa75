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
/// <summary>Arguments of <see cref="SamplerKernels.Step"/>.</summary>
public struct SamplerArgs
{
    /// <summary>Logits [R][B][LogitsTime][V] and the token rows [R][B][blockSize] the step extends.</summary>
    public ArrayView<float> Logits;
    public ArrayView<int> Tokens;
    /// <summary>
    /// Optional [R][B]: the sequence (counted from FirstSequence) each row holds, when a compacting sampler has moved
    /// rows (<see cref="GptModel.SampleCached"/>); empty: row b holds sequence b.
    /// </summary>
    public ArrayView<int> Sequences;
    public RandomStream Stream;
    public int FirstReplicate;
    public long FirstSequence;
    public int Batch, BlockSize, Position, LogitsTime, Vocab;
    public float Temperature;
}

static class SamplerKernels
{
    public const int EndToken = 0;

    /// <summary>
    /// Logits are [R][B][T][V] from a forward over T = LogitsTime positions, the last
    /// being position − 1 (T = position for a forward over the whole prefix, 1 for a cached step). Temperature 0
    /// takes the argmax (the first maximum), the limit of temperature → 0. Otherwise the token is
    /// the first whose cumulative probability exceeds u·Σ, u uniform in [0, 1) with 53 bits, number
    /// (firstSequence + b)·blockSize + position of replicate firstReplicate + r's stream, so the
    /// names drawn do not depend on how sequences are batched. One item per sequence.
    /// </summary>
    public static void Step(Index1D thread, SamplerArgs a, int stride)
    {
        var (logits, tokens, stream, batch, blockSize, position, logitsTime, vocab, temperature) =
            (a.Logits, a.Tokens, a.Stream, a.Batch, a.BlockSize, a.Position, a.LogitsTime, a.Vocab, a.Temperature);
        var (firstReplicate, firstSequence) = (a.FirstReplicate, a.FirstSequence);
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
                var b = a.Sequences.Length > 0 ? a.Sequences[s] : s - r * batch;
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

public sealed partial class LmKernels
{
    /// <summary>
    /// Next token at <paramref name="position"/> for every row of tokens [R][B][blockSize], from logits
    /// [R][B][position][V]; see <see cref="SamplerKernels.Step"/>. The CPU path runs the kernel on host threads.
    /// </summary>
    /// <param name="logitsTime">Positions per sequence in <paramref name="logits"/> (null: position, a forward over the whole prefix; 1 after a cached step).</param>
    /// <param name="sequences">Optional [R][batch]: the sequence each row holds (see <see cref="SamplerArgs.Sequences"/>).</param>
    public void SampleStep(ArrayView<float> logits, ArrayView<int> tokens, RandomStream stream, int firstReplicate, long firstSequence,
        int batch, int blockSize, int position, int vocab, float temperature, int? logitsTime = null, ArrayView<int> sequences = default)
    {
        var rowCount = tokens.Length / blockSize;
        // Each sequence's step touches its V logits twice (exp of each): split by that work, not by the sequence count.
        var threads = OnHost ? (int)Math.Min(rowCount, Threads(rowCount * vocab)) : Threads(rowCount);
        sampleStep(threads, new SamplerArgs
        {
            Logits = logits, Tokens = tokens, Sequences = sequences, Stream = stream, FirstReplicate = firstReplicate, FirstSequence = firstSequence, Batch = batch,
            BlockSize = blockSize, Position = position, LogitsTime = logitsTime ?? position, Vocab = vocab, Temperature = temperature,
        }, threads);
    }
}
