using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

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
        accelerator.LoadStreamKernel<EncoderBackwardArgs>(Backward);
}
