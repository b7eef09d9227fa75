using Collapse.Kernels.Accelerators;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// Token + position embeddings (llm.c's encoder), batched over replicates. Parameters are the [R][P]
// vector of GptLayout: replicate r's tensor starts at r·P + offset. Tokens are [R][B][ld] (ld ≥ T:
// the sampler's rows are a whole block long and only the first T positions are read); activations
// are compact [R][B·T][C].

/// <summary>Arguments of the encoder's forward kernels (every position, or one).</summary>
public struct EncoderArgs
{
    public ArrayView<int> Tokens;
    public int TokenStride;
    /// <summary>The parameter vector and the offsets of wte and wpe in each replicate's P.</summary>
    public ArrayView<float> Parameters;
    public long Wte, Wpe, ParameterCount;
    /// <summary>The output [R][B·T][C], or [R][B][C] for one position.</summary>
    public ArrayView<float> Output;
    public int Batch, Time, Width;
    /// <summary><see cref="EmbeddingKernels.ForwardAt"/>'s position.</summary>
    public int Position;
}

/// <summary>
/// The arguments of <see cref="GroupedEmbeddingKernels.Backward"/>: the gradients of the token and
/// position embeddings of R replicates, as <see cref="LmKernels.EncoderBackward"/> takes them.
/// </summary>
public struct EncoderBackwardArgs
{
    /// <summary>[R][B][TokenStride] tokens; the first T of each row are read.</summary>
    public ArrayView<int> Tokens;

    /// <summary>d loss/d encoder output, [R][B·T][C].</summary>
    public ArrayView<float> Dout;

    /// <summary>Gradients [R][ParameterCount]: wte's V·C and wpe's BlockSize·C entries per replicate are overwritten.</summary>
    public ArrayView<float> Gradients;

    /// <summary>The offsets of wte and wpe in a replicate's parameters, and P, the replicate stride.</summary>
    public long TokenEmbedding, PositionEmbedding, ParameterCount;

    /// <summary>Row stride of <see cref="Tokens"/> (≥ T), R, V, the block size, B, T and C.</summary>
    public int TokenStride, Replicates, Vocab, BlockSize, Batch, Time, Width;
}

static class EmbeddingKernels
{
    /// <summary>out[r][b·T + t][c] = wte[token][c] + wpe[t][c]; one item per output number.</summary>
    public static void Forward(Index1D thread, EncoderArgs a, int stride)
    {
        var (tokens, parameters, output, width, time) = (a.Tokens, a.Parameters, a.Output, a.Width, a.Time);
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
        var (parameters, output, width, position) = (a.Parameters, a.Output, a.Width, a.Position);
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
    public static void BackwardToken(Index1D thread, EncoderBackwardArgs a, int stride)
    {
        var (tokens, dout, gradients, width, batch, time, vocab) = (a.Tokens, a.Dout, a.Gradients, a.Width, a.Batch, a.Time, a.Vocab);
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
            gradients[r * a.ParameterCount + a.TokenEmbedding + rest] = (float)sum;
        }
    }

    /// <summary>dwpe[t][c] = Σ_b dout[b·T + t][c] for t &lt; T, 0 for the block's later positions. Items: R·blockSize·C.</summary>
    public static void BackwardPosition(Index1D thread, EncoderBackwardArgs a, int stride)
    {
        var (dout, gradients, width, batch, time, blockSize) = (a.Dout, a.Gradients, a.Width, a.Batch, a.Time, a.BlockSize);
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
            gradients[r * a.ParameterCount + a.PositionEmbedding + rest] = (float)sum;
        }
    }
}

/// <summary>
/// Encoder backward in one launch instead of <see cref="EmbeddingKernels.BackwardToken"/> +
/// <see cref="EmbeddingKernels.BackwardPosition"/>: the union of their item spaces, R·V·C token items
/// then R·blockSize·C position items, grid-stride over explicit groups. Each item is the plain kernel's
/// item unchanged (the same double sum in the same order, no atomics), so the gradients are the
/// plain kernels' bit for bit.
/// </summary>
static class GroupedEmbeddingKernels
{
    public static void Backward(EncoderBackwardArgs a)
    {
        var (V, C, B, T) = (a.Vocab, a.Width, a.Batch, a.Time);
        var tokenItems = (long)a.Replicates * V * C;
        var total = tokenItems + (long)a.Replicates * a.BlockSize * C;
        var stride = (long)Grid.DimX * Group.DimX;
        for (var item = (long)Grid.IdxX * Group.DimX + Group.IdxX; item < total; item += stride)
        {
            if (item < tokenItems)
            {
                var r = item / ((long)V * C);
                var rest = item - r * V * C;
                var v = (int)(rest / C);
                var c = (int)(rest - (long)v * C);
                var sum = 0.0;
                for (var b = 0; b < B; b++)
                    for (var t = 0; t < T; t++)
                        if (a.Tokens[(r * B + b) * a.TokenStride + t] == v)
                            sum += a.Dout[((r * B + b) * T + t) * C + c];
                a.Gradients[r * a.ParameterCount + a.TokenEmbedding + rest] = (float)sum;
            }
            else
            {
                var p = item - tokenItems;
                var r = p / ((long)a.BlockSize * C);
                var rest = p - r * a.BlockSize * C;
                var t = (int)(rest / C);
                var c = (int)(rest - (long)t * C);
                var sum = 0.0;
                if (t < T)
                    for (var b = 0; b < B; b++) sum += a.Dout[((r * B + b) * T + t) * C + c];
                a.Gradients[r * a.ParameterCount + a.PositionEmbedding + rest] = (float)sum;
            }
        }
    }

    /// <summary>
    /// Groups of G threads (256 on a GPU, 16 on PoCL, 1 on the ILGPU CPU accelerator: <see cref="GroupedRows.GroupSize"/>;
    /// <paramref name="groupSize"/> &gt; 0 instead), one item per thread up to what fills the device, then grid-stride.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in EncoderBackwardArgs a, int groupSize = 0)
    {
        var total = (long)a.Replicates * (a.Vocab + a.BlockSize) * a.Width;
        if (total <= 0 || a.Time > a.BlockSize || a.TokenStride < a.Time) throw new ArgumentException("encoder backward shape");
        var size = GroupedRows.GroupSize(accelerator, 256, groupSize);
        return new KernelConfig((int)Math.Min((total + size - 1) / size, GroupedRows.FillingGroups(accelerator, size)), size);
    }

    public static Action<KernelConfig, EncoderBackwardArgs> Load(Accelerator accelerator) =>
        accelerator.LoadStreamKernel<EncoderBackwardArgs>(Backward).Serialized(accelerator);
}

/// <summary>
/// The shaped encoder backward for CPU devices (ILGPU's CPU accelerator, PoCL; see <see cref="BlockedMatMulKernels.Serves"/>):
/// the items of <see cref="GroupedEmbeddingKernels"/> in one grid-stride launch, each a block of <see cref="Channels"/>
/// channels instead of one, so a token item scans its replicate's B·T tokens once for 8 sums, not once a sum (the
/// scan is most of the work: V·C/8 scans of B·T tokens, against the N·C numbers added). No groups: on ILGPU's CPU
/// accelerator a one-thread group leaves the rest of its multiprocessor's threads idle. Each sum is the plain kernels'
/// (double, over the positions in order), so the gradients are theirs bit for bit. Side by side at the makemore shape it
/// ran 2.9–4.4× as fast as the plain kernels on ILGPU's CPU accelerator and 5.4–7× on PoCL, where the grouped kernel ran
/// 1.0–1.4× and 1.05–1.2×.
/// </summary>
static class BlockedEmbeddingKernels
{
    /// <summary>Channels an item sums.</summary>
    public const int Channels = 8;

    static long ChannelBlocks(in EncoderBackwardArgs a) => (a.Width + Channels - 1) / Channels;

    /// <summary>Items: (replicate, token, block of channels), then (replicate, position, block of channels).</summary>
    public static long Items(in EncoderBackwardArgs a)
    {
        if (a.Replicates <= 0 || a.Width <= 0 || a.Time > a.BlockSize || a.TokenStride < a.Time) throw new ArgumentException("encoder backward shape");
        return a.Replicates * (long)(a.Vocab + a.BlockSize) * ChannelBlocks(a);
    }

    public static void Backward(Index1D thread, EncoderBackwardArgs a, int stride)
    {
        var (V, C, B, T) = (a.Vocab, a.Width, a.Batch, a.Time);
        var blocks = ChannelBlocks(a);
        var tokenItems = a.Replicates * V * blocks;
        var total = tokenItems + a.Replicates * a.BlockSize * blocks;
        for (long item = thread; item < total; item += stride)
        {
            var isToken = item < tokenItems;
            var k = isToken ? item : item - tokenItems;
            var rows = isToken ? V : a.BlockSize; // token or position
            var r = k / (rows * blocks);
            var rest = k - r * rows * blocks;
            var index = (int)(rest / blocks);
            var c0 = (int)(rest - index * blocks) * Channels;
            var last = Math.Min(Channels, C - c0) - 1; // channels past it read the last one again (block edge)
            // A token item scans every position for its token; a position item reads its position's rows (none past T).
            var (first, end) = isToken ? (0, T) : (Math.Min(index, T), Math.Min(index + 1, T));
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            for (var b = 0; b < B; b++)
                for (var t = first; t < end; t++)
                {
                    if (isToken && a.Tokens[(r * B + b) * a.TokenStride + t] != index) continue;
                    var at = ((r * B + b) * T + t) * C + c0;
                    s0 += a.Dout[at]; s1 += a.Dout[at + Math.Min(1, last)]; s2 += a.Dout[at + Math.Min(2, last)]; s3 += a.Dout[at + Math.Min(3, last)];
                    s4 += a.Dout[at + Math.Min(4, last)]; s5 += a.Dout[at + Math.Min(5, last)]; s6 += a.Dout[at + Math.Min(6, last)]; s7 += a.Dout[at + Math.Min(7, last)];
                }
            var g = r * a.ParameterCount + (isToken ? a.TokenEmbedding : a.PositionEmbedding) + (long)index * C + c0;
            a.Gradients[g] = (float)s0;
            if (last >= 1) a.Gradients[g + 1] = (float)s1;
            if (last >= 2) a.Gradients[g + 2] = (float)s2;
            if (last >= 3) a.Gradients[g + 3] = (float)s3;
            if (last >= 4) a.Gradients[g + 4] = (float)s4;
            if (last >= 5) a.Gradients[g + 5] = (float)s5;
            if (last >= 6) a.Gradients[g + 6] = (float)s6;
            if (last >= 7) a.Gradients[g + 7] = (float)s7;
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
        int batch, int time) =>
        encoderForwardOp(Encoder(tokens, tokenStride, p, layout, output, batch, time));

    /// <summary>Gradients of wte and wpe from dout [R][B·T][C] (overwrite).</summary>
    public void EncoderBackward(ArrayView<int> tokens, int tokenStride, ArrayView<float> dout, ReplicatedParameters gradients, GptLayout layout,
        int replicates, int batch, int time) =>
        encoderBackwardOp(new EncoderBackwardArgs
        {
            Tokens = tokens, Dout = dout, Gradients = gradients.View, TokenEmbedding = layout.TokenEmbedding, PositionEmbedding = layout.PositionEmbedding,
            ParameterCount = gradients.Count, TokenStride = tokenStride, Replicates = replicates, Vocab = layout.Config.Vocab,
            BlockSize = layout.Config.BlockSize, Batch = batch, Time = time, Width = layout.Config.Width,
        });

    /// <summary>Token + position embedding of position <paramref name="position"/> of every row of tokens [R][B][tokenStride], into [R][B][C]; one kernel in every version.</summary>
    public void EncoderForwardAt(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int position) =>
        Launch(encoderForwardAt, output.Length, Encoder(tokens, tokenStride, p, layout, output, batch, 1) with { Position = position });

    static EncoderArgs Encoder(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int time) => new()
    {
        Tokens = tokens, TokenStride = tokenStride, Parameters = p.View, Wte = layout.TokenEmbedding, Wpe = layout.PositionEmbedding,
        ParameterCount = p.Count, Output = output, Batch = batch, Time = time, Width = layout.Config.Width,
    };

    void EncoderForwardCpu(EncoderArgs a)
    {
        int* tk = IntPtr(a.Tokens);
        float* w = Ptr(a.Parameters), y = Ptr(a.Output);
        var (count, c, batch, time, tokenStride, wte, wpe) = (a.ParameterCount, a.Width, a.Batch, a.Time, a.TokenStride, a.Wte, a.Wpe);
        var rows = (long)batch * time;
        HostRanges(a.Output.Length / c, a.Output.Length, (first, n) => ForEachReplicate(first, n, rows, (r, row, k) =>
            EncoderCpu.Forward(tk + r * batch * tokenStride, tokenStride, w + r * count + wte, w + r * count + wpe,
                y + r * rows * c, (int)row, (int)k, time, c)));
    }

    void EncoderForwardPlain(EncoderArgs a) => Launch(encoderForward, a.Output.Length, a);

    void EncoderBackwardCpu(EncoderBackwardArgs a)
    {
        int* tk = IntPtr(a.Tokens);
        float* dy = Ptr(a.Dout), g = Ptr(a.Gradients);
        HostRanges(a.Replicates, (long)a.Replicates * a.Batch * a.Time * a.Width, (first, n) =>
        {
            for (var r = first; r < first + n; r++)
                EncoderCpu.Backward(tk + r * a.Batch * a.TokenStride, a.TokenStride, dy + r * a.Batch * a.Time * a.Width,
                    g + r * a.ParameterCount + a.TokenEmbedding, g + r * a.ParameterCount + a.PositionEmbedding, a.Vocab, a.BlockSize,
                    a.Batch, a.Time, a.Width);
        });
    }

    void EncoderBackwardPlain(EncoderBackwardArgs a)
    {
        Launch(encoderBackwardToken, (long)a.Replicates * a.Vocab * a.Width, a);
        Launch(encoderBackwardPosition, (long)a.Replicates * a.BlockSize * a.Width, a);
    }

    void EncoderBackwardShaped(EncoderBackwardArgs a)
    {
        if (blockedEncoderBackward is not null) Launch(blockedEncoderBackward, BlockedEmbeddingKernels.Items(a), a);
        else groupedEncoderBackward(GroupedEmbeddingKernels.BackwardConfig(accelerator, a), a);
    }
}
