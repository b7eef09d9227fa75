using System.Runtime.CompilerServices;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Gaussian;
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
/// current shape. On a CPU accelerator with AVX2/FMA the matrix products run as SIMD C#
/// (<see cref="SimdMatMul"/>) over the same buffers, since ILGPU's CPU backend runs them near
/// 1 GFLOP/s; the other operations are light (O(rows·width) or O(T²) per row) and run as ILGPU
/// grid-stride kernels everywhere. <see cref="KernelPath.Ilgpu"/> forces the ILGPU matmuls too.
/// </summary>
public sealed unsafe class LmKernels
{
    readonly Accelerator accelerator;
    public Accelerator Accelerator => accelerator;

    /// <summary>True when the matrix products run as SIMD C# on the CPU.</summary>
    public bool UsesSimd { get; }

    readonly Action<Index1D, ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int> encoderForward;
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
    readonly Action<Index1D, ArrayView<float>, ArrayView<int>, RandomStream, int, long, int, int, int, int, float, int> sampleStep;

    public LmKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto)
    {
        this.accelerator = accelerator;
        UsesSimd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU && SimdMatMul.IsSupported;
        encoderForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int, ArrayView<float>, long, long, long, ArrayView<float>, int, int, int, int>(EmbeddingKernels.Forward);
        encoderBackwardToken = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int, ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int>(EmbeddingKernels.BackwardToken);
        encoderBackwardPosition = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, long, long, int, int, int, int, int, int>(EmbeddingKernels.BackwardPosition);
        layerNormForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int>(LayerNormKernels.Forward);
        layerNormBackwardInput = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int>(LayerNormKernels.BackwardInput);
        layerNormBackwardParameters = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int>(LayerNormKernels.BackwardParameters);
        matMulForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, long, long, long, ArrayView<float>, long, int, int, int>(MatMulKernels.Forward);
        matMulBackwardInput = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, long, long, ArrayView<float>, long, int, int, int>(MatMulKernels.BackwardInput);
        matMulBackwardWeight = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, long, long, int, long, int, int, int>(MatMulKernels.BackwardWeight);
        attentionForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.Forward);
        attentionBackwardScores = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.BackwardScores);
        attentionBackwardQkv = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernels.BackwardQkv);
        geluForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(GeluKernels.Forward);
        geluBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(GeluKernels.Backward);
        residualForward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ResidualKernels.Forward);
        countTargets = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, long, int>(CrossEntropyKernels.CountTargets);
        crossEntropy = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, long, int, int, int>(CrossEntropyKernels.ForwardBackward);
        sumLosses = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, long, int>(CrossEntropyKernels.SumLosses);
        normPartials = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, long, int, int>(AdamWKernels.NormPartials);
        clipScale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, int, double, int>(AdamWKernels.ClipScale);
        adamW = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWStep, long, int>(AdamWKernels.Update);
        sampleStep = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, RandomStream, int, long, int, int, int, int, float, int>(SamplerKernels.Step);
    }

    int Threads(long items) => LaunchSize.For(accelerator, items);

    // ------------------------------------------------------------------ embeddings

    /// <summary>output [R][B·T][C] = wte[token] + wpe[t]; tokens are [R][B][tokenStride], the first T of each row read.</summary>
    public void EncoderForward(ArrayView<int> tokens, int tokenStride, ReplicatedParameters p, GptLayout layout, ArrayView<float> output,
        int batch, int time)
    {
        var c = layout.Config.Width;
        encoderForward(Threads(output.Length), tokens, tokenStride, p.View, layout.TokenEmbedding, layout.PositionEmbedding, p.Count,
            output, batch, time, c, Threads(output.Length));
    }

    /// <summary>Gradients of wte and wpe from dout [R][B·T][C] (overwrite).</summary>
    public void EncoderBackward(ArrayView<int> tokens, int tokenStride, ArrayView<float> dout, ReplicatedParameters gradients, GptLayout layout,
        int replicates, int batch, int time)
    {
        var (v, c, blockSize) = (layout.Config.Vocab, layout.Config.Width, layout.Config.BlockSize);
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
        ArrayView<float> mean, ArrayView<float> rstd, long rowsPerReplicate, int width) =>
        layerNormForward(Threads(mean.Length), input, p.View, weight, bias, p.Count, output, mean, rstd, rowsPerReplicate, width, Threads(mean.Length));

    /// <summary>dinput += the LayerNorm's input gradient; the weight and bias gradients are overwritten.</summary>
    public void LayerNormBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dinput, ReplicatedParameters gradients, int replicates,
        long rowsPerReplicate, int width)
    {
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
        attentionForward(Threads(rows), qkv, att, output, time, width, heads, Threads(rows));
    }

    /// <summary>dqkv (overwrites) from dout [R][B·T][C]; dpre is scratch shaped like att.</summary>
    public void AttentionBackward(ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> dout, ArrayView<float> dpre,
        ArrayView<float> dqkv, int time, int width, int heads)
    {
        var rows = att.Length / time;
        attentionBackwardScores(Threads(rows), qkv, att, dout, dpre, time, width, heads, Threads(rows));
        attentionBackwardQkv(Threads(dout.Length), qkv, att, dpre, dout, dqkv, time, width, heads, Threads(dout.Length));
    }

    // ------------------------------------------------------------------ element-wise

    public void GeluForward(ArrayView<float> input, ArrayView<float> output) =>
        geluForward(Threads(output.Length), input, output, Threads(output.Length));

    public void GeluBackward(ArrayView<float> input, ArrayView<float> dout, ArrayView<float> dinput) =>
        geluBackward(Threads(dinput.Length), input, dout, dinput, Threads(dinput.Length));

    public void ResidualForward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) =>
        residualForward(Threads(output.Length), a, b, output, Threads(output.Length));

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
        adamW(Threads(total), parameters.View, gradients, m, v, scale, scalars, parameters.Count, Threads(total));
    }

    // ------------------------------------------------------------------ sampling

    /// <summary>
    /// Next token at <paramref name="position"/> for every row of tokens [R][B][blockSize], from logits
    /// [R][B][position][V]; see <see cref="SamplerKernels.Step"/>.
    /// </summary>
    public void SampleStep(ArrayView<float> logits, ArrayView<int> tokens, RandomStream stream, int firstReplicate, long firstSequence,
        int batch, int blockSize, int position, int vocab, float temperature)
    {
        var sequences = tokens.Length / blockSize;
        sampleStep(Threads(sequences), logits, tokens, stream, firstReplicate, firstSequence, batch, blockSize, position, vocab,
            temperature, Threads(sequences));
    }

    public void Synchronize() => accelerator.Synchronize();

    static float* Ptr(ArrayView<float> view) => (float*)view.LoadEffectiveAddressAsPtr();
}
