using ILGPU;

namespace Collapse.Kernels.Lm;

// Token + position embeddings (llm.c's encoder), batched over replicates. Parameters are the [R][P]
// vector of GptLayout: replicate r's tensor starts at r·P + offset. Tokens are [R][B][ld] (ld ≥ T:
// the sampler's rows are a whole block long and only the first T positions are read); activations
// are compact [R][B·T][C].

/// <summary>Arguments of the encoder's kernels (forward, forward at one position, backward).</summary>
public struct EncoderArgs
{
    public ArrayView<int> Tokens;
    public int TokenStride;
    /// <summary>The parameter vector (forward) or the gradient vector (backward), and the offsets of wte and wpe in each replicate's P.</summary>
    public ArrayView<float> Parameters;
    public long Wte, Wpe, ParameterCount;
    /// <summary>The output [R][B·T][C] (forward), or dout (backward).</summary>
    public ArrayView<float> Activations;
    public int Replicates, Vocab, BlockSize, Batch, Time, Width;
    /// <summary><see cref="EmbeddingKernels.ForwardAt"/>'s position.</summary>
    public int Position;
}

static class EmbeddingKernels
{
    /// <summary>out[r][b·T + t][c] = wte[token][c] + wpe[t][c]; one item per output number.</summary>
    public static void Forward(Index1D thread, EncoderArgs a, int stride)
    {
        var (tokens, parameters, output, width, time) = (a.Tokens, a.Parameters, a.Activations, a.Width, a.Time);
        var rowsPerReplicate = (long)a.Batch * time;
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / width;
            var c = (int)(item - row * width);
            var r = row / rowsPerReplicate;
            var n = row - r * rowsPerReplicate;
            var b = n / time;
            var t = (int)(n - b * time);
            var token = tokens[(r * a.Batch + b) * a.TokenStride + t];
            output[item] = parameters[r * a.ParameterCount + a.Wte + (long)token * width + c]
                         + parameters[r * a.ParameterCount + a.Wpe + (long)t * width + c];
        }
    }

    /// <summary>
    /// The embedding of one position only, for cached sampling: out[r][b][c] = wte[token at position][c]
    /// + wpe[position][c], tokens [R][B][tokenStride]; one item per output number.
    /// </summary>
    public static void ForwardAt(Index1D thread, EncoderArgs a, int stride)
    {
        var (parameters, output, width, position) = (a.Parameters, a.Activations, a.Width, a.Position);
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / width; // r·B + b
            var c = (int)(item - row * width);
            var r = row / a.Batch;
            var token = a.Tokens[row * a.TokenStride + position];
            output[item] = parameters[r * a.ParameterCount + a.Wte + (long)token * width + c]
                         + parameters[r * a.ParameterCount + a.Wpe + (long)position * width + c];
        }
    }

    /// <summary>
    /// dwte[v][c] = Σ over positions holding token v of dout[·][c], one item per (replicate, v, c),
    /// each scanning its replicate's B·T tokens: no atomics, so the sum's order is fixed.
    /// Overwrites (the embedding is used once per step). Items: R·V·C.
    /// </summary>
    public static void BackwardToken(Index1D thread, EncoderArgs a, int stride)
    {
        var (tokens, dout, gradients, width, batch, time, vocab) = (a.Tokens, a.Activations, a.Parameters, a.Width, a.Batch, a.Time, a.Vocab);
        var total = (long)a.Replicates * vocab * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)vocab * width);
            var rest = item - r * vocab * width;
            var v = (int)(rest / width);
            var c = (int)(rest - (long)v * width);
            var sum = 0.0;
            for (var b = 0; b < batch; b++)
                for (var t = 0; t < time; t++)
                    if (tokens[(r * batch + b) * a.TokenStride + t] == v)
                        sum += dout[((r * batch + b) * time + t) * width + c];
            gradients[r * a.ParameterCount + a.Wte + rest] = (float)sum;
        }
    }

    /// <summary>dwpe[t][c] = Σ_b dout[b·T + t][c] for t &lt; T, 0 for the block's later positions. Items: R·blockSize·C.</summary>
    public static void BackwardPosition(Index1D thread, EncoderArgs a, int stride)
    {
        var (dout, gradients, width, batch, time, blockSize) = (a.Activations, a.Parameters, a.Width, a.Batch, a.Time, a.BlockSize);
        var total = (long)a.Replicates * blockSize * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)blockSize * width);
            var rest = item - r * blockSize * width;
            var t = (int)(rest / width);
            var c = (int)(rest - (long)t * width);
            var sum = 0.0;
            if (t < time)
                for (var b = 0; b < batch; b++) sum += dout[((r * batch + b) * time + t) * width + c];
            gradients[r * a.ParameterCount + a.Wpe + rest] = (float)sum;
        }
    }
}

/// <summary>The encoder on the CPU path: pointer loops over one replicate's rows.</summary>
static unsafe class EncoderCpu
{
    /// <summary>Rows [first, first + count) of one replicate: out[n] = wte[token] + wpe[t], n = b·T + t.</summary>
    public static void Forward(int* tokens, int tokenStride, float* wte, float* wpe, float* output, int first, int count, int time, int width)
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
    public static void Backward(int* tokens, int tokenStride, float* dout, float* dwte, float* dwpe, int vocab, int blockSize,
        int batch, int time, int width)
    {
        new Span<float>(dwte, vocab * width).Clear();
        new Span<float>(dwpe, blockSize * width).Clear();
        for (var b = 0; b < batch; b++)
            for (var t = 0; t < time; t++)
            {
                var d = dout + ((long)b * time + t) * width;
                GeluCpu.Add(dwte + (long)tokens[(long)b * tokenStride + t] * width, d, width);
                GeluCpu.Add(dwpe + (long)t * width, d, width);
            }
    }
}

public sealed unsafe partial class LmKernels
{
    /// <summary>output [R][B·T][C] = wte[token] + wpe[t]; tokens are [R][B][tokenStride], the first T of each row read.</summary>
    public void EncoderForward(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int time)
    {
        var c = layout.Config.Width;
        if (Version == LmVersion.Cpu)
        {
            int* tk = IntPtr(tokens);
            float* w = Ptr(p.View), y = Ptr(output);
            var (count, rows) = (p.Count, (long)batch * time);
            HostRanges(output.Length / c, output.Length, (first, n) => ForEachReplicate(first, n, rows, (r, row, k) =>
                EncoderCpu.Forward(tk + r * batch * tokenStride, tokenStride, w + r * count + layout.TokenEmbedding, w + r * count + layout.PositionEmbedding,
                    y + r * rows * c, (int)row, (int)k, time, c)));
            return;
        }
        Launch(encoderForward, output.Length, Encoder(tokens, tokenStride, p, layout, output, batch, time));
    }

    /// <summary>Gradients of wte and wpe from dout [R][B·T][C] (overwrite).</summary>
    public void EncoderBackward(ArrayView<int> tokens, int tokenStride, ArrayView<float> dout, ReplicatedParameters gradients, GptLayout layout,
        int replicates, int batch, int time)
    {
        var (v, c, blockSize) = (layout.Config.Vocab, layout.Config.Width, layout.Config.BlockSize);
        if (Version == LmVersion.Cpu)
        {
            int* tk = IntPtr(tokens);
            float* dy = Ptr(dout), g = Ptr(gradients.View);
            var count = gradients.Count;
            HostRanges(replicates, (long)replicates * batch * time * c, (first, n) =>
            {
                for (var r = first; r < first + n; r++)
                    EncoderCpu.Backward(tk + r * batch * tokenStride, tokenStride, dy + r * batch * time * c, g + r * count + layout.TokenEmbedding,
                        g + r * count + layout.PositionEmbedding, v, blockSize, batch, time, c);
            });
            return;
        }
        var args = Encoder(tokens, tokenStride, gradients, layout, dout, batch, time) with { Replicates = replicates };
        Launch(encoderBackwardToken, (long)replicates * v * c, args);
        Launch(encoderBackwardPosition, (long)replicates * blockSize * c, args);
    }

    /// <summary>Token + position embedding of position <paramref name="position"/> of every row of tokens [R][B][tokenStride], into [R][B][C].</summary>
    public void EncoderForwardAt(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int position) =>
        Launch(encoderForwardAt, output.Length, Encoder(tokens, tokenStride, p, layout, output, batch, 1) with { Position = position });

    static EncoderArgs Encoder(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> activations,
        int batch, int time) => new()
    {
        Tokens = tokens, TokenStride = tokenStride, Parameters = p.View, Wte = layout.TokenEmbedding, Wpe = layout.PositionEmbedding,
        ParameterCount = p.Count, Activations = activations, Vocab = layout.Config.Vocab, BlockSize = layout.Config.BlockSize,
        Batch = batch, Time = time, Width = layout.Config.Width,
    };
}
