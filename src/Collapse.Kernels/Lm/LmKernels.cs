using System.Runtime.CompilerServices;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

/// <summary>
/// The parameter vector every kernel reads its weights from: [R][Count] floats, replicate r's
/// tensor at r·Count + offset (see <see cref="GptLayout"/>).
/// </summary>
public readonly record struct ReplicatedParameters(ArrayView<float> View, long Count);

/// <summary>
/// Launchers for the transformer's kernels. Every method serves all R replicates (separate weights,
/// separate data) in one launch; activations are compact [R][rows][width] views of exactly the
/// current shape. On a CPU accelerator the matrix products run as SIMD C# (<see cref="SimdMatMul"/>,
/// AVX2/FMA) over the same buffers, since ILGPU's CPU backend runs them near 1 GFLOP/s, and the
/// light operations as pointer C# (<see cref="CpuLm"/>), since each ILGPU CPU launch costs
/// milliseconds (see LmKernels.Launch.cs); <see cref="KernelPath.Ilgpu"/> launches every kernel
/// through ILGPU instead, as GPUs do.
/// </summary>
public sealed unsafe partial class LmKernels
{
    readonly Accelerator accelerator;
    public Accelerator Accelerator => accelerator;

    /// <summary>
    /// True on the CPU path: a CPU accelerator with AVX2/FMA, kernels not forced to ILGPU. The matrix
    /// products then run as <see cref="SimdMatMul"/>, the light operations as <see cref="CpuLm"/>, and
    /// the few remaining kernels (cross-entropy, sampling) as their methods on host threads.
    /// </summary>
    public bool UsesSimd { get; }

    bool OnHost => UsesSimd;

    readonly Action<Index1D, ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int> encoderForward;
    readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, int, int, int, long, int, long, ArrayView<int>, ArrayView<int>, int> gatherRows;
    readonly Action<Index1D, ArrayView<int>, int, ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int> encoderBackwardToken;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int> encoderBackwardPosition;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int> layerNormForward;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int> layerNormBackwardInput;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int> layerNormBackwardParameters;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, long, int, int, int> matMulForward;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, long, int, int, int> matMulBackwardInput;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int, int> matMulBackwardWeight;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> attentionForward;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> attentionBackwardScores;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> attentionBackwardQkv;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> geluForward;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> geluBackward;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> residualForward;
    readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, long, int> countTargets;
    readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, long, int, int, int> crossEntropy;
    readonly Action<Index1D, ArrayView<float>, ArrayView<double>, long, int> sumLosses;
    readonly Action<Index1D, ArrayView<float>, ArrayView<double>, long, int, int> normPartials;
    readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, int, double, int> clipScale;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWStep, long, int> adamW;
    readonly Action<Index1D, ArrayView<float>, ArrayView<int>, RandomStream, int, long, int, int, int, int, int, float, int> sampleStep;
    readonly Action<Index1D, ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int> encoderForwardAt;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> attentionForwardCached;

    public LmKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto)
    {
        this.accelerator = accelerator;
        UsesSimd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU && SimdMatMul.IsSupported;
        encoderForward = Load<ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int>(EmbeddingKernels.Forward);
        gatherRows = Load<ArrayView<int>, ArrayView<int>, ArrayView<int>, int, int, int, long, int, long, ArrayView<int>, ArrayView<int>, int>(BatchKernels.GatherRows);
        encoderBackwardToken = Load<ArrayView<int>, int, ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int>(EmbeddingKernels.BackwardToken);
        encoderBackwardPosition = Load<ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int>(EmbeddingKernels.BackwardPosition);
        layerNormForward = Load<ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int>(LayerNormKernels.Forward);
        layerNormBackwardInput = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int>(LayerNormKernels.BackwardInput);
        layerNormBackwardParameters = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int>(LayerNormKernels.BackwardParameters);
        matMulForward = Load<ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, long, int, int, int>(MatMulKernels.Forward);
        matMulBackwardInput = Load<ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, long, int, int, int>(MatMulKernels.BackwardInput);
        matMulBackwardWeight = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int, int>(MatMulKernels.BackwardWeight);
        attentionForward = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.Forward);
        attentionBackwardScores = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.BackwardScores);
        attentionBackwardQkv = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.BackwardQkv);
        geluForward = Load<ArrayView<float>, ArrayView<float>, int>(GeluKernels.Forward);
        geluBackward = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(GeluKernels.Backward);
        residualForward = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ResidualKernels.Forward);
        countTargets = Load<ArrayView<int>, ArrayView<int>, ArrayView<float>, long, int>(CrossEntropyKernels.CountTargets);
        crossEntropy = Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, long, int, int, int>(CrossEntropyKernels.ForwardBackward);
        sumLosses = Load<ArrayView<float>, ArrayView<double>, long, int>(CrossEntropyKernels.SumLosses);
        normPartials = Load<ArrayView<float>, ArrayView<double>, long, int, int>(AdamWKernels.NormPartials);
        clipScale = Load<ArrayView<double>, ArrayView<double>, ArrayView<float>, int, double, int>(AdamWKernels.ClipScale);
        adamW = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWStep, long, int>(AdamWKernels.Update);
        sampleStep = Load<ArrayView<float>, ArrayView<int>, RandomStream, int, long, int, int, int, int, int, float, int>(SamplerKernels.Step);
        encoderForwardAt = Load<ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int>(EmbeddingKernels.ForwardAt);
        attentionForwardCached = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(AttentionKernels.ForwardCached);
    }

    // ------------------------------------------------------------------ batches

    /// <summary>A step's rows from a token set on the device (<see cref="BatchKernels.GatherRows"/>): tokens and targets [R][size][T].</summary>
    public void GatherRows(ArrayView<int> setInputs, ArrayView<int> setTargets, ArrayView<int> orders, int sets, int m, int blockSize,
        long first, int size, long epochBase, ArrayView<int> tokens, ArrayView<int> targets)
    {
        var threads = Threads(tokens.Length);
        gatherRows(threads, setInputs, setTargets, orders, sets, m, blockSize, first, size, epochBase, tokens, targets, threads);
    }

    // ------------------------------------------------------------------ embeddings

    /// <summary>output [R][B·T][C] = wte[token] + wpe[t]; tokens are [R][B][tokenStride], the first T of each row read.</summary>
    public void EncoderForward(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int time)
    {
        var c = layout.Config.Width;
        if (OnHost)
        {
            int* tk = IntPtr(tokens);
            float* w = Ptr(p.View), y = Ptr(output);
            var (count, rows) = (p.Count, (long)batch * time);
            HostRanges(output.Length / c, output.Length, (first, n) => ForEachReplicate(first, n, rows, (r, row, k) =>
                CpuLm.EncoderForward(tk + r * batch * tokenStride, tokenStride, w + r * count + layout.TokenEmbedding, w + r * count + layout.PositionEmbedding,
                    y + r * rows * c, (int)row, (int)k, time, c)));
            return;
        }
        encoderForward(Threads(output.Length), tokens, tokenStride, p.View, layout.TokenEmbedding, layout.PositionEmbedding, p.Count,
            output, batch, time, c, Threads(output.Length));
    }

    /// <summary>Gradients of wte and wpe from dout [R][B·T][C] (overwrite).</summary>
    public void EncoderBackward(ArrayView<int> tokens, int tokenStride, ArrayView<float> dout, ReplicatedParameters gradients, GptLayout layout,
        int replicates, int batch, int time)
    {
        var (v, c, blockSize) = (layout.Config.Vocab, layout.Config.Width, layout.Config.BlockSize);
        if (OnHost)
        {
            int* tk = IntPtr(tokens);
            float* dy = Ptr(dout), g = Ptr(gradients.View);
            var count = gradients.Count;
            HostRanges(replicates, (long)replicates * batch * time * c, (first, n) =>
            {
                for (var r = first; r < first + n; r++)
                    CpuLm.EncoderBackward(tk + r * batch * tokenStride, tokenStride, dy + r * batch * time * c, g + r * count + layout.TokenEmbedding,
                        g + r * count + layout.PositionEmbedding, v, blockSize, batch, time, c);
            });
            return;
        }
        var tokenItems = (long)replicates * v * c;
        encoderBackwardToken(Threads(tokenItems), tokens, tokenStride, dout, gradients.View, layout.TokenEmbedding, gradients.Count,
            replicates, v, batch, time, c, Threads(tokenItems));
        var positionItems = (long)replicates * blockSize * c;
        encoderBackwardPosition(Threads(positionItems), dout, gradients.View, layout.PositionEmbedding, gradients.Count, replicates,
            blockSize, batch, time, c, Threads(positionItems));
    }

    // ------------------------------------------------------------------ layer norm

    /// <summary>output, mean, rstd of input [R][N][C]; mean and rstd are [R][N] views of exactly R·N.</summary>
    public void LayerNormForward(ArrayView<float> input, ReplicatedParameters p, long weight, long bias, ArrayView<float> output,
        ArrayView<float> mean, ArrayView<float> rstd, long rowsPerReplicate, int width)
    {
        if (OnHost)
        {
            float* x = Ptr(input), w = Ptr(p.View), y = Ptr(output), m = Ptr(mean), s = Ptr(rstd);
            var count = p.Count;
            HostRanges(mean.Length, mean.Length * width, (first, n) => ForEachReplicate(first, n, rowsPerReplicate, (r, row, k) =>
            {
                var at = r * rowsPerReplicate + row;
                CpuLm.LayerNormForward(x + at * width, w + r * count + weight, w + r * count + bias, y + at * width, m + at, s + at, k, width);
            }));
            return;
        }
        layerNormForward(Threads(mean.Length), input, p.View, weight, bias, p.Count, output, mean, rstd, rowsPerReplicate, width, Threads(mean.Length));
    }

    /// <summary>dinput += the LayerNorm's input gradient; the weight and bias gradients are overwritten.</summary>
    public void LayerNormBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dinput, ReplicatedParameters gradients, int replicates,
        long rowsPerReplicate, int width)
    {
        if (OnHost)
        {
            float* dy = Ptr(dout), x = Ptr(input), w = Ptr(p.View), m = Ptr(mean), s = Ptr(rstd), dx = Ptr(dinput), g = Ptr(gradients.View);
            var count = p.Count;
            // Items: every replicate's rows for the input gradient, then one item per replicate for the weight and bias gradients.
            var rows = mean.Length;
            HostRanges(rows + replicates, 2 * rows * width, (first, n) =>
            {
                var end = first + n;
                if (first < rows)
                    ForEachReplicate(first, Math.Min(end, rows) - first, rowsPerReplicate, (r, row, k) =>
                    {
                        var at = r * rowsPerReplicate + row;
                        CpuLm.LayerNormBackwardInput(dy + at * width, x + at * width, w + r * count + weight, m + at, s + at, dx + at * width, k, width);
                    });
                for (var r = Math.Max(first, rows) - rows; r < end - rows; r++)
                    CpuLm.LayerNormBackwardParameters(dy + r * rowsPerReplicate * width, x + r * rowsPerReplicate * width, m + r * rowsPerReplicate,
                        s + r * rowsPerReplicate, g + r * gradients.Count + weight, g + r * gradients.Count + bias, rowsPerReplicate, width);
            });
            return;
        }
        layerNormBackwardInput(Threads(mean.Length), dout, input, p.View, weight, p.Count, mean, rstd, dinput, rowsPerReplicate, width, Threads(mean.Length));
        var items = (long)replicates * 2 * width;
        layerNormBackwardParameters(Threads(items), dout, input, mean, rstd, gradients.View, weight, bias, gradients.Count, replicates,
            rowsPerReplicate, width, Threads(items));
    }

    // ------------------------------------------------------------------ matmul

    /// <summary>output [R][N][OC] = input [R][N][C]·Wᵀ + bias (bias offset &lt; 0: none).</summary>
    public void MatMulForward(ArrayView<float> input, ReplicatedParameters p, long weight, long bias, ArrayView<float> output,
        int replicates, long rowsPerReplicate, int inputWidth, int outputWidth)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            float* x = Ptr(input), w = Ptr(p.View), y = Ptr(output);
            var count = p.Count;
            var blocks = RowBlocks(replicates, rowsPerReplicate);
            Parallel.For(0, (long)replicates * blocks, CpuParallel.OneWorkerPerCore, item =>
            {
                var r = item / blocks;
                var (first, rows) = Block(item % blocks, blocks, rowsPerReplicate);
                var transposed = (float*)Unsafe.AsPointer(ref ThreadScratch.Floats((long)inputWidth * outputWidth)[0]);
                SimdMatMul.Forward(x + (r * rowsPerReplicate + first) * inputWidth, w + r * count + weight,
                    bias >= 0 ? w + r * count + bias : null, y + (r * rowsPerReplicate + first) * outputWidth, rows, inputWidth, outputWidth, transposed);
            });
            return;
        }
        matMulForward(Threads(output.Length), input, p.View, weight, bias, p.Count, output, rowsPerReplicate, inputWidth, outputWidth, Threads(output.Length));
    }

    /// <summary>dinput = dout·W (overwrites); dW = doutᵀ·input and dbias = Σ dout (overwrite).</summary>
    public void MatMulBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> dinput, ReplicatedParameters gradients, int replicates, long rowsPerReplicate, int inputWidth, int outputWidth)
    {
        if (UsesSimd)
        {
            accelerator.Synchronize();
            float* dy = Ptr(dout), x = Ptr(input), w = Ptr(p.View), dx = Ptr(dinput), g = Ptr(gradients.View);
            var count = p.Count;
            var rowBlocks = RowBlocks(replicates, rowsPerReplicate);
            var outputBlocks = RowBlocks(replicates, outputWidth);
            // Work items: (replicate, block of input-gradient rows), then (replicate, block of weight-gradient rows).
            Parallel.For(0, (long)replicates * (rowBlocks + outputBlocks), CpuParallel.OneWorkerPerCore, item =>
            {
                var r = item / (rowBlocks + outputBlocks);
                var k = item % (rowBlocks + outputBlocks);
                var rows = (int)rowsPerReplicate;
                if (k < rowBlocks)
                {
                    var (first, blockRows) = Block(k, rowBlocks, rowsPerReplicate);
                    SimdMatMul.BackwardInput(dy + (r * rowsPerReplicate + first) * outputWidth, w + r * count + weight,
                        dx + (r * rowsPerReplicate + first) * inputWidth, blockRows, inputWidth, outputWidth);
                }
                else
                {
                    var (first, outputs) = Block(k - rowBlocks, outputBlocks, outputWidth);
                    SimdMatMul.BackwardWeight(dy + r * rowsPerReplicate * outputWidth, x + r * rowsPerReplicate * inputWidth,
                        g + r * count + weight, bias >= 0 ? g + r * count + bias : null, rows, inputWidth, outputWidth, (int)first, outputs);
                }
            });
            return;
        }
        matMulBackwardInput(Threads(dinput.Length), dout, p.View, weight, p.Count, dinput, rowsPerReplicate, inputWidth, outputWidth, Threads(dinput.Length));
        var items = (long)replicates * outputWidth * (bias >= 0 ? inputWidth + 1 : inputWidth);
        matMulBackwardWeight(Threads(items), dout, input, gradients.View, weight, bias, gradients.Count, replicates, rowsPerReplicate,
            inputWidth, outputWidth, Threads(items));
    }

    /// <summary>
    /// Blocks of rows per replicate for the CPU work items: enough items to give every core two
    /// (so one replicate alone still uses the machine), blocks a multiple of 4 rows (the SIMD tile).
    /// </summary>
    static int RowBlocks(int replicates, long rows)
    {
        var wanted = (2 * Environment.ProcessorCount + replicates - 1) / replicates;
        return (int)Math.Max(1, Math.Min(wanted, (rows + 3) / 4));
    }

    static (long First, int Count) Block(long index, int blocks, long rows)
    {
        var size = ((rows + blocks - 1) / blocks + 3) / 4 * 4;
        var first = Math.Min(rows, index * size);
        return (first, (int)(Math.Min(rows, first + size) - first));
    }

    // ------------------------------------------------------------------ attention

    /// <summary>att [R·B·NH·T·T] and output [R][B·T][C] from qkv [R][B·T][3C].</summary>
    public void AttentionForward(ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> output, int time, int width, int heads)
    {
        var rows = att.Length / time;
        if (OnHost)
        {
            float* q = Ptr(qkv), a = Ptr(att), y = Ptr(output);
            var sequences = output.Length / ((long)time * width);
            HostRanges(sequences, att.Length * (width / heads), (first, n) =>
            {
                for (var s = first; s < first + n; s++)
                    CpuLm.AttentionForward(q + s * time * 3 * width, a + s * heads * time * time, y + s * time * width, time, width, heads);
            });
            return;
        }
        attentionForward(Threads(rows), qkv, att, output, time, width, heads, Threads(rows));
    }

    /// <summary>dqkv (overwrites) from dout [R][B·T][C]; dpre is scratch shaped like att.</summary>
    public void AttentionBackward(ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> dout, ArrayView<float> dpre,
        ArrayView<float> dqkv, int time, int width, int heads)
    {
        var rows = att.Length / time;
        if (OnHost)
        {
            float* q = Ptr(qkv), a = Ptr(att), dy = Ptr(dout), dq = Ptr(dqkv);
            var sequences = dout.Length / ((long)time * width);
            HostRanges(sequences, 2 * att.Length * (width / heads), (first, n) =>
            {
                var datt = stackalloc float[time];
                for (var s = first; s < first + n; s++)
                    CpuLm.AttentionBackward(q + s * time * 3 * width, a + s * heads * time * time, dy + s * time * width, dq + s * time * 3 * width,
                        time, width, heads, datt);
            });
            return;
        }
        attentionBackwardScores(Threads(rows), qkv, att, dout, dpre, time, width, heads, Threads(rows));
        attentionBackwardQkv(Threads(dout.Length), qkv, att, dpre, dout, dqkv, time, width, heads, Threads(dout.Length));
    }

    // ------------------------------------------------------------------ element-wise

    public void GeluForward(ArrayView<float> input, ArrayView<float> output)
    {
        if (OnHost)
        {
            float* x = Ptr(input), y = Ptr(output);
            HostRanges(output.Length, 8 * output.Length, (first, n) => CpuLm.GeluForward(x + first, y + first, n));
            return;
        }
        geluForward(Threads(output.Length), input, output, Threads(output.Length));
    }

    public void GeluBackward(ArrayView<float> input, ArrayView<float> dout, ArrayView<float> dinput)
    {
        if (OnHost)
        {
            float* x = Ptr(input), dy = Ptr(dout), dx = Ptr(dinput);
            HostRanges(dinput.Length, 8 * dinput.Length, (first, n) => CpuLm.GeluBackward(x + first, dy + first, dx + first, n));
            return;
        }
        geluBackward(Threads(dinput.Length), input, dout, dinput, Threads(dinput.Length));
    }

    public void ResidualForward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        if (OnHost)
        {
            float* x = Ptr(a), y = Ptr(b), z = Ptr(output);
            HostRanges(output.Length, output.Length, (first, n) => CpuLm.Residual(x + first, y + first, z + first, n));
            return;
        }
        residualForward(Threads(output.Length), a, b, output, Threads(output.Length));
    }

    // ------------------------------------------------------------------ cross-entropy

    /// <summary>counts[r] and scale[r] = 1/counts[r] from targets [R][N].</summary>
    public void CountTargets(ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale, long rowsPerReplicate) =>
        countTargets(Threads(counts.Length), targets, counts, scale, rowsPerReplicate, Threads(counts.Length));

    /// <summary>losses [R][N]; with <paramref name="writeGradient"/>, logits become d(mean loss)/dlogits.</summary>
    public void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> scale, ArrayView<float> losses,
        long rowsPerReplicate, int vocab, bool writeGradient) =>
        crossEntropy(Threads(losses.Length), logits, targets, scale, losses, rowsPerReplicate, vocab, writeGradient ? 1 : 0, Threads(losses.Length));

    /// <summary>sums[r] = Σ_n losses[r][n], in double.</summary>
    public void SumLosses(ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate) =>
        sumLosses(Threads(sums.Length), losses, sums, rowsPerReplicate, Threads(sums.Length));

    // ------------------------------------------------------------------ optimizer

    /// <summary>Partial sums per replicate for <see cref="GradientNorm"/>: R·⌈P/chunk⌉ doubles.</summary>
    public static long NormPartialCount(int replicates, long parameterCount) =>
        replicates * ((parameterCount + AdamWKernels.NormChunk - 1) / AdamWKernels.NormChunk);

    /// <summary>norms[r] = ‖g_r‖ and scale[r], the clip factor for <paramref name="maxNorm"/> (≤ 0: always 1).</summary>
    public void GradientNorm(ReplicatedParameters gradients, ArrayView<double> partials, ArrayView<double> norms, ArrayView<float> scale, double maxNorm)
    {
        var chunks = (int)((gradients.Count + AdamWKernels.NormChunk - 1) / AdamWKernels.NormChunk);
        if (OnHost)
        {
            float* g = Ptr(gradients.View);
            var p = (double*)partials.LoadEffectiveAddressAsPtr();
            var count = gradients.Count;
            // One partial sum per chunk, as the kernel computes them, then the same clip kernel.
            HostRanges(partials.Length, gradients.View.Length, (first, n) =>
            {
                for (var item = first; item < first + n; item++)
                {
                    var (r, k) = (item / chunks, item % chunks);
                    var start = k * AdamWKernels.NormChunk;
                    p[item] = CpuLm.SquaredNorm(g + r * count + start, Math.Min(AdamWKernels.NormChunk, count - start));
                }
            });
            clipScale(Threads(norms.Length), partials, norms, scale, chunks, maxNorm, Threads(norms.Length));
            return;
        }
        normPartials(Threads(partials.Length), gradients.View, partials, gradients.Count, chunks, Threads(partials.Length));
        clipScale(Threads(norms.Length), partials, norms, scale, chunks, maxNorm, Threads(norms.Length));
    }

    /// <summary>One AdamW step (step ≥ 1) over every replicate, gradients scaled by scale[r].</summary>
    public void AdamW(ReplicatedParameters parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> scale, GptTraining settings, int step)
    {
        var scalars = new AdamWStep
        {
            LearningRate = (float)settings.LearningRate, Beta1 = (float)settings.Beta1, Beta2 = (float)settings.Beta2,
            Epsilon = (float)settings.Epsilon, WeightDecay = (float)settings.WeightDecay,
            Correction1 = (float)(1 - Math.Pow(settings.Beta1, step)), Correction2 = (float)(1 - Math.Pow(settings.Beta2, step)),
        };
        var total = parameters.View.Length;
        if (OnHost)
        {
            float* p = Ptr(parameters.View), g = Ptr(gradients), m1 = Ptr(m), m2 = Ptr(v), sc = Ptr(scale);
            var count = parameters.Count;
            HostRanges(total, 4 * total, (first, n) => ForEachReplicate(first, n, count, (r, i, k) =>
            {
                var at = r * count + i;
                CpuLm.AdamW(p + at, g + at, m1 + at, m2 + at, k, sc[r], scalars);
            }));
            return;
        }
        adamW(Threads(total), parameters.View, gradients, m, v, scale, scalars, parameters.Count, Threads(total));
    }

    // ------------------------------------------------------------------ sampling

    /// <summary>
    /// Next token at <paramref name="position"/> for every row of tokens [R][B][blockSize], from logits
    /// [R][B][position][V]; see <see cref="SamplerKernels.Step"/>.
    /// </summary>
    /// <param name="logitsTime">Positions per sequence in <paramref name="logits"/> (null: position, a forward over the whole prefix; 1 after a cached step).</param>
    public void SampleStep(ArrayView<float> logits, ArrayView<int> tokens, RandomStream stream, int firstReplicate, long firstSequence,
        int batch, int blockSize, int position, int vocab, float temperature, int? logitsTime = null)
    {
        var sequences = tokens.Length / blockSize;
        // Each sequence's step touches its V logits twice (exp of each): split by that work, not by the sequence count.
        var threads = OnHost ? (int)Math.Min(sequences, Threads(sequences * vocab)) : Threads(sequences);
        sampleStep(threads, logits, tokens, stream, firstReplicate, firstSequence, batch, blockSize, position, logitsTime ?? position, vocab,
            temperature, threads);
    }

    /// <summary>Token + position embedding of position <paramref name="position"/> of every row of tokens [R][B][tokenStride], into [R][B][C].</summary>
    public void EncoderForwardAt(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int position) =>
        encoderForwardAt(Threads(output.Length), tokens, tokenStride, p.View, layout.TokenEmbedding, layout.PositionEmbedding, p.Count,
            output, batch, position, layout.Config.Width, Threads(output.Length));

    /// <summary>One new position's attention against the key/value cache [R·B][blockSize][2C] (which it extends); see <see cref="AttentionKernels.ForwardCached"/>.</summary>
    public void AttentionForwardCached(ArrayView<float> qkv, ArrayView<float> cache, ArrayView<float> att, ArrayView<float> output,
        int position, int blockSize, int width, int heads)
    {
        var items = output.Length / (width / heads);
        if (OnHost)
        {
            float* q = Ptr(qkv), kv = Ptr(cache), a = Ptr(att), y = Ptr(output);
            HostRanges(items, items * (position + 1) * (width / heads) * 3, (first, n) =>
            {
                for (var item = first; item < first + n; item++) AttentionCachedOnHost(q, kv, a, y, item, position, blockSize, width, heads);
            });
            return;
        }
        attentionForwardCached(Threads(items), qkv, cache, att, output, position, blockSize, width, heads, Threads(items));
    }

    /// <summary><see cref="AttentionKernels.ForwardCached"/>'s item as pointer C# (the same operations in the same order).</summary>
    static void AttentionCachedOnHost(float* qkv, float* cache, float* att, float* output, long item, int position, int blockSize, int width, int heads)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var h = (int)(item % heads);
        var sequence = item / heads;
        var q = qkv + sequence * 3 * width + (long)h * hs;
        var entries = cache + sequence * blockSize * 2 * width;
        var here = entries + (long)position * 2 * width + (long)h * hs;
        for (var i = 0; i < hs; i++)
        {
            here[i] = q[width + i];
            here[width + i] = q[2 * width + i];
        }
        var a = att + item * blockSize;
        var max = float.NegativeInfinity;
        for (var t2 = 0; t2 <= position; t2++)
        {
            var k = entries + (long)t2 * 2 * width + (long)h * hs;
            var dot = 0.0f;
            for (var i = 0; i < hs; i++) dot += q[i] * k[i];
            dot *= scale;
            a[t2] = dot;
            max = MathF.Max(max, dot);
        }
        var sum = 0.0f;
        for (var t2 = 0; t2 <= position; t2++)
        {
            var e = MathF.Exp(a[t2] - max);
            a[t2] = e;
            sum += e;
        }
        var inverse = 1.0f / sum;
        for (var t2 = 0; t2 <= position; t2++) a[t2] *= inverse;
        var y = output + sequence * width + (long)h * hs;
        for (var i = 0; i < hs; i++)
        {
            var sumY = 0.0f;
            for (var t2 = 0; t2 <= position; t2++) sumY += a[t2] * entries[(long)t2 * 2 * width + width + (long)h * hs + i];
            y[i] = sumY;
        }
    }

    public void Synchronize() => accelerator.Synchronize();

    /// <summary>Host work below which a CPU operation runs on the calling thread (numbers touched).</summary>
    const long HostParallelWork = 32768;

    /// <summary>
    /// The CPU path's launch: [0, items) split into one contiguous range per core, or run on the
    /// calling thread when <paramref name="work"/> is small. Waits for queued copies first.
    /// </summary>
    void HostRanges(long items, long work, Action<long, long> body)
    {
        accelerator.Synchronize();
        var parts = (int)Math.Min(items, work < HostParallelWork ? 1 : Environment.ProcessorCount);
        if (parts <= 1)
        {
            body(0, items);
            return;
        }
        Parallel.For(0, parts, CpuParallel.OneWorkerPerCore, k => body(items * k / parts, items * (k + 1) / parts - items * k / parts));
    }

    /// <summary>Splits a range of [R][perReplicate] items into its per-replicate pieces: body(replicate, first item within it, count).</summary>
    static void ForEachReplicate(long first, long count, long perReplicate, Action<long, long, long> body)
    {
        var end = first + count;
        while (first < end)
        {
            var r = first / perReplicate;
            var within = first - r * perReplicate;
            var n = Math.Min(end - first, perReplicate - within);
            body(r, within, n);
            first += n;
        }
    }

    static float* Ptr(ArrayView<float> view) => (float*)view.LoadEffectiveAddressAsPtr();
    static int* IntPtr(ArrayView<int> view) => (int*)view.LoadEffectiveAddressAsPtr();
}
