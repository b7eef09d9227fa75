using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// Token + position embeddings (llm.c's encoder), batched over replicates. Parameters are the
/// [R][P] vector of <see cref="GptLayout"/>: replicate r's tensor starts at r·P + offset.
/// Tokens are [R][B][ld] (ld ≥ T: the sampler's rows are a whole block long and only the first T
/// positions are read); activations are compact [R][B·T][C].
/// </summary>
static class EmbeddingKernels
{
    /// <summary>out[r][b·T + t][c] = wte[token][c] + wpe[t][c]; one item per output number.</summary>
    public static void Forward(Index1D thread, ArrayView<int> tokens, int tokenStride, ArrayView<float> parameters, long wte, long wpe,
        long parameterCount, ArrayView<float> output, int batch, int time, int width, int stride)
    {
        var rowsPerReplicate = (long)batch * time;
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / width;
            var c = (int)(item - row * width);
            var r = row / rowsPerReplicate;
            var n = row - r * rowsPerReplicate;
            var b = n / time;
            var t = (int)(n - b * time);
            var token = tokens[(r * batch + b) * tokenStride + t];
            output[item] = parameters[r * parameterCount + wte + (long)token * width + c]
                         + parameters[r * parameterCount + wpe + (long)t * width + c];
        }
    }

    /// <summary>
    /// The embedding of one position only, for cached sampling: out[r][b][c] = wte[token at position][c]
    /// + wpe[position][c], tokens [R][B][tokenStride]; one item per output number.
    /// </summary>
    public static void ForwardAt(Index1D thread, ArrayView<int> tokens, int tokenStride, ArrayView<float> parameters, long wte, long wpe,
        long parameterCount, ArrayView<float> output, int batch, int position, int width, int stride)
    {
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / width; // r·B + b
            var c = (int)(item - row * width);
            var r = row / batch;
            var token = tokens[row * tokenStride + position];
            output[item] = parameters[r * parameterCount + wte + (long)token * width + c]
                         + parameters[r * parameterCount + wpe + (long)position * width + c];
        }
    }

    /// <summary>
    /// dwte[v][c] = Σ over positions holding token v of dout[·][c], one item per (replicate, v, c),
    /// each scanning its replicate's B·T tokens: no atomics, so the sum's order is fixed.
    /// Overwrites (the embedding is used once per step). Items: R·V·C.
    /// </summary>
    public static void BackwardToken(Index1D thread, ArrayView<int> tokens, int tokenStride, ArrayView<float> dout,
        ArrayView<float> gradients, long wte, long parameterCount, int replicates, int vocab, int batch, int time, int width, int stride)
    {
        var total = (long)replicates * vocab * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)vocab * width);
            var rest = item - r * vocab * width;
            var v = (int)(rest / width);
            var c = (int)(rest - (long)v * width);
            var sum = 0.0;
            for (var b = 0; b < batch; b++)
                for (var t = 0; t < time; t++)
                    if (tokens[(r * batch + b) * tokenStride + t] == v)
                        sum += dout[((r * batch + b) * time + t) * width + c];
            gradients[r * parameterCount + wte + rest] = (float)sum;
        }
    }

    /// <summary>dwpe[t][c] = Σ_b dout[b·T + t][c] for t &lt; T, 0 for the block's later positions. Items: R·blockSize·C.</summary>
    public static void BackwardPosition(Index1D thread, ArrayView<float> dout, ArrayView<float> gradients, long wpe, long parameterCount,
        int replicates, int blockSize, int batch, int time, int width, int stride)
    {
        var total = (long)replicates * blockSize * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)blockSize * width);
            var rest = item - r * blockSize * width;
            var t = (int)(rest / width);
            var c = (int)(rest - (long)t * width);
            var sum = 0.0;
            if (t < time)
                for (var b = 0; b < batch; b++) sum += dout[((r * batch + b) * time + t) * width + c];
            gradients[r * parameterCount + wpe + rest] = (float)sum;
        }
    }
}
