using Collapse.Kernels.Lm;

namespace Collapse.Performance.Workloads;

/// <summary>The transformer operations a training step is made of (forward and backward), and the optimizer step.</summary>
public enum LmOperation
{
    EncoderForward, EncoderBackward, LayerNormForward, LayerNormBackward, MatMulForward, MatMulBackward,
    AttentionForward, AttentionBackward, GeluForward, GeluBackward, CrossEntropy, AdamW,
}

/// <summary>
/// One transformer operation for R replicates at a preset's training shape (batch B, block size T,
/// width C; the matrix product is the MLP's C → 4C, the largest), with its float64 peer from
/// <see cref="ReferenceGptOps"/> run replicate by replicate. Work: floating-point operations for
/// the matrix products and attention; bytes read and written (float32) for the rest, whose speed
/// is set by memory traffic.
/// </summary>
public sealed class LmOperationWorkload : IKernelWorkload
{
    readonly LmKernels kernels;
    readonly Accelerator accelerator;
    readonly LmOperation operation;
    readonly GptConfig config;
    readonly GptLayout layout;
    readonly GptTraining training;
    readonly int replicates, batch, time, rows;
    readonly List<MemoryBuffer> buffers = [];
    readonly MemoryBuffer1D<float, Stride1D.Dense> parameters, gradients, m, v, x, y, dy, dx, stats1, stats2, wide, scale;
    readonly MemoryBuffer1D<int, Stride1D.Dense> tokens;
    // The reference's inputs: one replicate's worth, in float64.
    readonly double[] hostParameters, hostX, hostDy, hostWide, hostDx, hostY, hostMean, hostRstd, hostGradients, hostM, hostV;
    readonly int[] hostTokens;

    /// <param name="version">The kernels' version (null: the one <paramref name="path"/> picks here).</param>
    public LmOperationWorkload(Accelerator accelerator, KernelPath path, LmOperation operation, GptPreset preset, int vocab, int blockSize, int replicates,
        LmVersion? version = null)
    {
        this.accelerator = accelerator;
        kernels = new LmKernels(accelerator, path, version);
        this.operation = operation;
        config = preset.Config(vocab, blockSize);
        layout = new GptLayout(config);
        training = preset.Training;
        (this.replicates, batch, time) = (replicates, training.Batch, blockSize);
        rows = batch * time;
        var c = config.Width;
        var random = new System.Random(1);
        float[] Floats(long n, double spread) => [.. Enumerable.Range(0, (int)n).Select(_ => (float)(spread * (random.NextDouble() - 0.5)))];
        MemoryBuffer1D<float, Stride1D.Dense> Buffer(float[] values)
        {
            var b = accelerator.Allocate1D(values);
            buffers.Add(b);
            return b;
        }
        var widest = Math.Max(4 * c, config.Vocab);
        parameters = Buffer(Floats(replicates * layout.Count, 0.2));
        gradients = Buffer(Floats(replicates * layout.Count, 0.01));
        m = Buffer(new float[replicates * layout.Count]);
        v = Buffer(new float[replicates * layout.Count]);
        x = Buffer(Floats((long)replicates * rows * widest, 2));
        y = Buffer(new float[(long)replicates * rows * widest]);
        dy = Buffer(Floats((long)replicates * rows * widest, 0.1));
        dx = Buffer(new float[(long)replicates * rows * widest]);
        stats1 = Buffer(new float[(long)replicates * Math.Max(rows, batch * config.Heads * time) * time]);
        stats2 = Buffer(new float[(long)replicates * rows * widest]);
        wide = Buffer(Floats((long)replicates * rows * 3 * c, 2));
        scale = Buffer(Enumerable.Repeat(1f / rows, replicates).ToArray());
        hostTokens = [.. Enumerable.Range(0, replicates * rows).Select(_ => random.Next(config.Vocab))];
        tokens = accelerator.Allocate1D(hostTokens);
        buffers.Add(tokens);
        static double[] Doubles(MemoryBuffer1D<float, Stride1D.Dense> b, long n) => [.. b.GetAsArray1D().Take((int)n).Select(f => (double)f)];
        hostParameters = Doubles(parameters, layout.Count);
        hostGradients = Doubles(gradients, layout.Count);
        (hostM, hostV) = (new double[layout.Count], new double[layout.Count]);
        hostX = Doubles(x, (long)rows * widest);
        hostDy = Doubles(dy, (long)rows * widest);
        hostWide = Doubles(wide, (long)rows * 3 * c);
        hostY = new double[(long)rows * widest];
        hostDx = new double[(long)rows * widest];
        hostMean = new double[Math.Max(rows, batch * config.Heads * time * time)];
        hostRstd = new double[rows];
        // LayerNorm's backward needs its forward's statistics: compute them once, both sides.
        if (operation == LmOperation.LayerNormBackward)
        {
            var o = layout.Block(0);
            kernels.LayerNormForward(View(x, c), Parameters, o.Norm1Weight, o.Norm1Bias, View(y, c), View(stats1, 1), View(stats2, 1), rows, c);
            ReferenceGptOps.LayerNormForward(hostY, hostMean, hostRstd, hostX, Slice(o.Norm1Weight, c), Slice(o.Norm1Bias, c), rows, c);
        }
        if (operation == LmOperation.AttentionBackward)
        {
            kernels.AttentionForward(View(wide, 3 * c), View(stats1, config.Heads * time), View(y, c), time, c, config.Heads);
            ReferenceGptOps.AttentionForward(hostY, hostMean, hostWide, batch, time, c, config.Heads);
        }
        accelerator.Synchronize();
    }

    ReplicatedParameters Parameters => new(parameters.View, layout.Count);
    ReplicatedParameters Gradients => new(gradients.View, layout.Count);
    ArrayView<float> View(MemoryBuffer1D<float, Stride1D.Dense> buffer, long width) => buffer.View.SubView(0, replicates * rows * width);
    ReadOnlySpan<double> Slice(long offset, long length) => hostParameters.AsSpan((int)offset, (int)length);

    /// <summary>The work of one run, in the unit that bounds the operation.</summary>
    public static Work WorkFor(LmOperation operation, GptConfig config, int batch, int replicates)
    {
        double r = replicates, n = (double)batch * config.BlockSize, c = config.Width, t = config.BlockSize;
        double attention = r * batch * 2.0 * c * t * (t + 1); // scores and weighted sum: 2 flops × hs × (t + 1) each, per head, summed over t
        double parameterCount = new GptLayout(config).Count;
        return operation switch
        {
            LmOperation.MatMulForward => new(r * 2 * n * c * 4 * c, WorkUnit.Flop),
            LmOperation.MatMulBackward => new(r * 4 * n * c * 4 * c, WorkUnit.Flop),
            LmOperation.AttentionForward => new(attention, WorkUnit.Flop),
            LmOperation.AttentionBackward => new(2 * attention, WorkUnit.Flop),
            LmOperation.EncoderForward => new(r * n * c * 4 * 3, WorkUnit.Byte),
            LmOperation.EncoderBackward => new(r * n * c * 4 * 3, WorkUnit.Byte),
            LmOperation.LayerNormForward => new(r * n * c * 4 * 2, WorkUnit.Byte),
            LmOperation.LayerNormBackward => new(r * n * c * 4 * 3, WorkUnit.Byte),
            LmOperation.GeluForward => new(r * n * 4 * c * 4 * 2, WorkUnit.Byte),
            LmOperation.GeluBackward => new(r * n * 4 * c * 4 * 3, WorkUnit.Byte),
            LmOperation.CrossEntropy => new(r * n * config.Vocab * 4 * 2, WorkUnit.Byte),
            LmOperation.AdamW => new(r * parameterCount * 4 * 7, WorkUnit.Byte),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
    }

    public Work Work => WorkFor(operation, config, batch, replicates);

    public void Run()
    {
        var c = config.Width;
        var o = layout.Block(0);
        switch (operation)
        {
            case LmOperation.EncoderForward:
                kernels.EncoderForward(tokens.View, time, Parameters, layout, View(y, c), batch, time);
                break;
            case LmOperation.EncoderBackward:
                kernels.EncoderBackward(tokens.View, time, View(dy, c), Gradients, layout, replicates, batch, time);
                break;
            case LmOperation.LayerNormForward:
                kernels.LayerNormForward(View(x, c), Parameters, o.Norm1Weight, o.Norm1Bias, View(y, c), View(stats1, 1), View(stats2, 1), rows, c);
                break;
            case LmOperation.LayerNormBackward:
                kernels.LayerNormBackward(View(dy, c), View(x, c), Parameters, o.Norm1Weight, o.Norm1Bias, View(stats1, 1), View(stats2, 1),
                    View(dx, c), Gradients, replicates, rows, c);
                break;
            case LmOperation.MatMulForward:
                kernels.MatMulForward(View(x, c), Parameters, o.FcWeight, o.FcBias, View(y, 4 * c), replicates, rows, c, 4 * c);
                break;
            case LmOperation.MatMulBackward:
                kernels.MatMulBackward(View(dy, 4 * c), View(x, c), Parameters, o.FcWeight, o.FcBias, View(dx, c), Gradients, replicates, rows, c, 4 * c);
                break;
            case LmOperation.AttentionForward:
                kernels.AttentionForward(View(wide, 3 * c), View(stats1, config.Heads * time), View(y, c), time, c, config.Heads);
                break;
            case LmOperation.AttentionBackward:
                kernels.AttentionBackward(View(wide, 3 * c), View(stats1, config.Heads * time), View(dy, c), View(stats2, config.Heads * time),
                    View(dx, 3 * c), time, c, config.Heads);
                break;
            case LmOperation.GeluForward:
                kernels.GeluForward(View(x, 4 * c), View(y, 4 * c));
                break;
            case LmOperation.GeluBackward:
                kernels.GeluBackward(View(x, 4 * c), View(dy, 4 * c), View(dx, 4 * c));
                break;
            case LmOperation.CrossEntropy:
                kernels.CrossEntropy(View(x, config.Vocab), tokens.View, scale.View, View(y, 1), rows, config.Vocab, writeGradient: true);
                break;
            case LmOperation.AdamW:
                kernels.AdamW(Parameters, gradients.View, m.View, v.View, scale.View, training, 1);
                break;
        }
        accelerator.Synchronize();
    }

    public void RunReference()
    {
        var c = config.Width;
        var o = layout.Block(0);
        for (var r = 0; r < replicates; r++)
            switch (operation)
            {
                case LmOperation.EncoderForward:
                    ReferenceGptOps.EncoderForward(hostY, hostTokens, Slice(layout.TokenEmbedding, config.Vocab * c), Slice(layout.PositionEmbedding, time * c), batch, time, c);
                    break;
                case LmOperation.EncoderBackward:
                    ReferenceGptOps.EncoderBackward(hostGradients.AsSpan((int)layout.TokenEmbedding, config.Vocab * c),
                        hostGradients.AsSpan((int)layout.PositionEmbedding, time * c), hostDy, hostTokens, batch, time, c);
                    break;
                case LmOperation.LayerNormForward:
                    ReferenceGptOps.LayerNormForward(hostY, hostMean, hostRstd, hostX, Slice(o.Norm1Weight, c), Slice(o.Norm1Bias, c), rows, c);
                    break;
                case LmOperation.LayerNormBackward:
                    ReferenceGptOps.LayerNormBackward(hostDx, hostGradients.AsSpan((int)o.Norm1Weight, c), hostGradients.AsSpan((int)o.Norm1Bias, c),
                        hostDy, hostX, Slice(o.Norm1Weight, c), hostMean, hostRstd, rows, c);
                    break;
                case LmOperation.MatMulForward:
                    ReferenceGptOps.MatMulForward(hostY, hostX, Slice(o.FcWeight, 4 * c * c), Slice(o.FcBias, 4 * c), rows, c, 4 * c);
                    break;
                case LmOperation.MatMulBackward:
                    ReferenceGptOps.MatMulBackward(hostDx, hostGradients.AsSpan((int)o.FcWeight, 4 * c * c), hostGradients.AsSpan((int)o.FcBias, 4 * c),
                        hostDy, hostX, Slice(o.FcWeight, 4 * c * c), rows, c, 4 * c);
                    break;
                case LmOperation.AttentionForward:
                    ReferenceGptOps.AttentionForward(hostY, hostMean, hostWide, batch, time, c, config.Heads);
                    break;
                case LmOperation.AttentionBackward:
                    ReferenceGptOps.AttentionBackward(hostDx, hostDy, hostWide, hostMean, batch, time, c, config.Heads);
                    break;
                case LmOperation.GeluForward:
                    for (var i = 0; i < rows * 4 * c; i++) hostY[i] = ReferenceGptOps.Gelu(hostX[i]);
                    break;
                case LmOperation.GeluBackward:
                    for (var i = 0; i < rows * 4 * c; i++) hostDx[i] = ReferenceGptOps.GeluDerivative(hostX[i]) * hostDy[i];
                    break;
                case LmOperation.CrossEntropy:
                    ReferenceGptOps.CrossEntropyForward(hostMean, hostX, hostTokens, rows, config.Vocab);
                    ReferenceGptOps.CrossEntropyBackward(hostDx, hostMean, hostTokens, rows, rows, config.Vocab);
                    break;
                case LmOperation.AdamW:
                    ReferenceGptOps.AdamW(hostParameters, hostGradients, hostM, hostV, 1, training);
                    break;
            }
    }

    public void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
    }
}

/// <summary>
/// Sampling names: <see cref="GptModel.SampleFullPrefix"/> draws a batch of names per replicate at
/// temperature 1, one launch sequence per position (the prefix rerun each step, as makemore's
/// generate does); its peer runs the float64 reference GPT the same way, replicate by replicate,
/// drawing each character from the softmax. Work: names (of at most block size − 1 characters).
/// (<see cref="GptModel.Sample"/> itself now keeps a key/value cache; LmSamplerCacheBenchmark
/// compares the two.)
/// </summary>
public sealed class LmSamplingWorkload : IKernelWorkload
{
    readonly GptModel model;
    readonly Accelerator accelerator;
    readonly ReferenceGpt reference;
    readonly int count;
    int draws;

    public LmSamplingWorkload(Accelerator accelerator, KernelPath path, GptPreset preset, int vocab, int blockSize, int replicates, int count,
        LmVersion? version = null)
    {
        this.accelerator = accelerator;
        var config = preset.Config(vocab, blockSize);
        model = new GptModel(new LmKernels(accelerator, path, version), config, preset.Training, replicates, Math.Max(count, preset.Training.Batch));
        model.Initialize(new Kernels.Random.RandomStream(1, 0, 0, 1), new Kernels.Random.RandomStream(1, 0, 0, 2));
        this.count = count;
        var layout = new GptLayout(config);
        reference = new ReferenceGpt(config, [.. model.GetParameters().Take((int)layout.Count).Select(f => (double)f)]);
    }

    public static Work WorkFor(int count, int replicates) => new((double)count * replicates, WorkUnit.Sample);

    public Work Work => WorkFor(count, model.Replicates);

    public void Run()
    {
        model.SampleFullPrefix(count, 1f, new Kernels.Random.RandomStream(2, 0, (uint)++draws, 3));
        accelerator.Synchronize();
    }

    public void RunReference()
    {
        var (T, V) = (model.Config.BlockSize, model.Config.Vocab);
        var random = new System.Random(draws);
        for (var r = 0; r < model.Replicates; r++)
        {
            var rows = new int[count * T];
            for (var position = 1; position < T; position++)
            {
                var inputs = new int[count * position];
                for (var b = 0; b < count; b++) Array.Copy(rows, b * T, inputs, b * position, position);
                reference.Forward(inputs, Enumerable.Repeat(-1, inputs.Length).ToArray(), count, position);
                for (var b = 0; b < count; b++)
                {
                    // Softmax of the last position's logits, then an inverse-CDF draw.
                    var logits = reference.Logits.AsSpan(((b + 1) * position - 1) * V, V);
                    var max = double.NegativeInfinity;
                    foreach (var l in logits) max = Math.Max(max, l);
                    var total = 0.0;
                    foreach (var l in logits) total += Math.Exp(l - max);
                    var u = random.NextDouble() * total;
                    var token = 0;
                    for (var cumulative = Math.Exp(logits[0] - max); cumulative < u && token < V - 1; cumulative += Math.Exp(logits[++token] - max)) { }
                    rows[b * T + position] = token;
                }
            }
        }
    }

    public void Dispose() => model.Dispose();
}
