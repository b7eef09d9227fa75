using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

/// <summary>
/// R independent character GPTs (separate weights, data and optimizer state) trained together:
/// every operation is one batched launch of <see cref="LmKernels"/>. The sequence of operations is
/// llm.c's gpt2_forward / gpt2_backward / gpt2_update, with makemore's model (see
/// <see cref="GptLayout"/>). It lives beside the kernels because it is only their composition over
/// device buffers: no data pools, scenarios or files (the engine's language-model family wraps it).
/// </summary>
public sealed class GptModel : IDisposable
{
    public GptConfig Config { get; }
    public GptLayout Layout { get; }
    public GptTraining Training { get; }
    public int Replicates { get; }

    /// <summary>Most sequences per replicate one forward can hold (training, evaluation and sampling batches).</summary>
    public int MaxBatch { get; }

    /// <summary>AdamW steps taken since the optimizer was reset.</summary>
    public int Steps { get; private set; }

    readonly LmKernels kernels;
    readonly Accelerator accelerator;
    readonly List<IDisposable> owned = [];
    readonly MemoryBuffer1D<float, Stride1D.Dense> parameters, gradients, moment1, moment2;
    readonly MemoryBuffer1D<int, Stride1D.Dense> tokens, targets, counts;
    readonly MemoryBuffer1D<float, Stride1D.Dense> encoded, lnf, lnfMean, lnfRstd, logits, losses, lossScale, clipScale;
    readonly MemoryBuffer1D<float, Stride1D.Dense> dResidual, dNorm, dQkv, dPre, dAttentionOut, dFc;
    readonly MemoryBuffer1D<double, Stride1D.Dense> lossSums, normPartials, gradientNorms;
    readonly BlockBuffers[] blocks;

    /// <summary>The forward activations of one block, kept for backward.</summary>
    sealed class BlockBuffers
    {
        public required MemoryBuffer1D<float, Stride1D.Dense> Ln1, Ln1Mean, Ln1Rstd, Qkv, Att, AttentionOut, AttentionProj, Residual2,
            Ln2, Ln2Mean, Ln2Rstd, Fc, FcGelu, FcProj, Output;
    }

    // The shape of the last forward, which backward uses.
    int batch, time, tokenStride;

    public GptModel(LmKernels kernels, GptConfig config, GptTraining training, int replicates, int maxBatch)
    {
        Config = config.Validated();
        Training = training.Validated();
        if (replicates < 1) throw new ArgumentException($"replicates {replicates}: need at least 1");
        if (maxBatch < training.Batch) throw new ArgumentException($"max batch {maxBatch} is below the training batch {training.Batch}");
        (this.kernels, accelerator, Replicates, MaxBatch) = (kernels, kernels.Accelerator, replicates, maxBatch);
        Layout = new GptLayout(config);
        var (r, c, v, nh, t) = ((long)replicates, (long)config.Width, (long)config.Vocab, (long)config.Heads, (long)config.BlockSize);
        var rows = r * maxBatch * t; // positions of all replicates at the largest batch
        parameters = Floats(r * Layout.Count);
        gradients = Floats(r * Layout.Count);
        moment1 = Floats(r * Layout.Count);
        moment2 = Floats(r * Layout.Count);
        tokens = Ints(rows);
        targets = Ints(rows);
        counts = Ints(r);
        encoded = Floats(rows * c);
        blocks = new BlockBuffers[config.Layers];
        for (var l = 0; l < config.Layers; l++)
            blocks[l] = new BlockBuffers
            {
                Ln1 = Floats(rows * c), Ln1Mean = Floats(rows), Ln1Rstd = Floats(rows), Qkv = Floats(rows * 3 * c),
                Att = Floats(rows * nh * t), AttentionOut = Floats(rows * c), AttentionProj = Floats(rows * c), Residual2 = Floats(rows * c),
                Ln2 = Floats(rows * c), Ln2Mean = Floats(rows), Ln2Rstd = Floats(rows), Fc = Floats(rows * 4 * c),
                FcGelu = Floats(rows * 4 * c), FcProj = Floats(rows * c), Output = Floats(rows * c),
            };
        lnf = Floats(rows * c);
        lnfMean = Floats(rows);
        lnfRstd = Floats(rows);
        logits = Floats(rows * v);
        losses = Floats(rows);
        lossScale = Floats(r);
        lossSums = Doubles(r);
        // Backward reuses one set of gradient buffers for every block: only the residual stream's
        // gradient flows from block to block.
        dResidual = Floats(rows * c);
        dNorm = Floats(rows * c);
        dQkv = Floats(rows * 3 * c);
        dPre = Floats(rows * nh * t);
        dAttentionOut = Floats(rows * c);
        dFc = Floats(rows * 4 * c);
        normPartials = Doubles(LmKernels.NormPartialCount(replicates, Layout.Count));
        gradientNorms = Doubles(r);
        clipScale = Floats(r);
        // Without clipping the scale stays 1 and the gradient norm is not computed each step (GradientNorms computes it on demand).
        clipScale.View.CopyFromCPU(Enumerable.Repeat(1f, (int)r).ToArray());
    }

    /// <summary>
    /// Device bytes per replicate the constructor allocates for <paramref name="config"/> at
    /// <paramref name="maxBatch"/> sequences (parameters, gradients and both AdamW moments; every
    /// forward activation kept for backward; one set of backward buffers), plus the cached sampler's
    /// (<see cref="SamplerBytesPerReplicate"/>), which the first sample adds. Mirrors the constructor
    /// above line by line; <see cref="AllocatedBytes"/> is what a real model holds.
    /// </summary>
    public static long BytesPerReplicate(GptConfig config, int maxBatch)
    {
        var (c, v, nh, t, layers) = ((long)config.Width, (long)config.Vocab, (long)config.Heads, (long)config.BlockSize, (long)config.Layers);
        var parameterCount = new GptLayout(config).Count;
        var rows = maxBatch * t;
        // Floats per position: encoded, per block 18c + 4 + nh·t (ln1 and its two statistics, qkv, att,
        // attention out and projection, residual, ln2 and its statistics, fc, gelu, projection, output),
        // lnf and its statistics, logits, losses; backward: residual, norm, qkv, pre-softmax, attention out, fc (the GELU's
        // gradient is fused into the product's, so it needs no buffer of its own).
        var floatsPerRow = c + layers * (18 * c + 4 + nh * t) + c + 2 + v + 1 + (c + c + 3 * c + nh * t + c + 4 * c);
        return 4 * (4 * parameterCount + rows * floatsPerRow + 2) + 4 * (2 * rows + 1)
            + 8 * (2 + LmKernels.NormPartialCount(1, parameterCount)) + SamplerBytesPerReplicate(config, maxBatch);
    }

    /// <summary>Device bytes this model holds now (every buffer it allocated, the sampler's once it has sampled, a loaded training set).</summary>
    public long AllocatedBytes => owned.OfType<MemoryBuffer>().Sum(b => b.LengthInBytes)
                                  + new MemoryBuffer?[] { setInputs, setTargets, setOrders }.Sum(b => b?.LengthInBytes ?? 0);

    /// <summary>Device bytes per replicate of a training set of <paramref name="documents"/> rows (its own set) with two epochs' orders: what <see cref="LoadTrainingSet"/> and <see cref="LoadOrders"/> hold.</summary>
    public static long TrainingSetBytesPerReplicate(GptConfig config, long documents) => documents * (2 * 4L * config.BlockSize + 2 * 4L);

    MemoryBuffer1D<float, Stride1D.Dense> Floats(long length) => Own(accelerator.Allocate1D<float>(Math.Max(1, length)));
    MemoryBuffer1D<int, Stride1D.Dense> Ints(long length) => Own(accelerator.Allocate1D<int>(Math.Max(1, length)));
    MemoryBuffer1D<double, Stride1D.Dense> Doubles(long length) => Own(accelerator.Allocate1D<double>(Math.Max(1, length)));

    T Own<T>(T buffer) where T : IDisposable
    {
        owned.Add(buffer);
        return buffer;
    }

    ReplicatedParameters Parameters => new(parameters.View, Layout.Count);
    ReplicatedParameters Gradients => new(gradients.View, Layout.Count);

    /// <summary>The first R·rows·width numbers of a buffer: the compact [R][rows][width] view of the current shape.</summary>
    ArrayView<float> Shape(MemoryBuffer1D<float, Stride1D.Dense> buffer, long width) => buffer.View.SubView(0, Replicates * (long)batch * time * width);

    // ------------------------------------------------------------------ parameters

    /// <summary>
    /// PyTorch's default initialization, as makemore's model gets it: embeddings N(0, 1) (normal
    /// number i of <paramref name="normals"/>), linear weights and biases U(±1/√fan_in) (uniform i of
    /// <paramref name="uniforms"/>), LayerNorm weight 1 and bias 0, where i is the number's index in
    /// the replicate's parameter vector; replicate r draws from stream.ForReplicate(firstReplicate + r).
    /// Resets the optimizer.
    /// </summary>
    public void Initialize(RandomStream normals, RandomStream uniforms, int firstReplicate = 0)
    {
        var host = new float[Replicates * Layout.Count];
        Parallel.For(0, Replicates, r =>
        {
            var normal = normals.ForReplicate((uint)(firstReplicate + r));
            var uniform = uniforms.ForReplicate((uint)(firstReplicate + r));
            var span = host.AsSpan((int)(r * Layout.Count), (int)Layout.Count);
            foreach (var tensor in Layout.Tensors)
                for (var i = tensor.Offset; i < tensor.Offset + tensor.Length; i++)
                    span[(int)i] = tensor.Init switch
                    {
                        ParameterInit.Normal => Philox.Normal(normal, (ulong)i),
                        ParameterInit.UniformFanIn => (2 * Philox.UniformAt(uniform, (ulong)i) - 1) / MathF.Sqrt(tensor.FanIn),
                        ParameterInit.One => 1.0f,
                        _ => 0.0f,
                    };
        });
        SetParameters(host);
    }

    /// <summary>Every replicate's parameters, [R][P].</summary>
    public float[] GetParameters()
    {
        accelerator.Synchronize();
        kernels.Counter.CopiedToHost();
        return parameters.GetAsArray1D();
    }

    /// <summary>Loads [R][P] parameters (a saved initial state, say) and resets the optimizer.</summary>
    public void SetParameters(float[] values)
    {
        if (values.Length != parameters.Length) throw new ArgumentException($"expected {parameters.Length} numbers, got {values.Length}");
        parameters.View.CopyFromCPU(values);
        kernels.Counter.CopiedToDevice();
        ResetOptimizer();
    }

    /// <summary>Gradients of the last backward, [R][P].</summary>
    public float[] GetGradients()
    {
        accelerator.Synchronize();
        kernels.Counter.CopiedToHost();
        return gradients.GetAsArray1D();
    }

    /// <summary>Each replicate's gradient norm before clipping, from the last <see cref="Update"/> (computed now when clipping is off).</summary>
    public double[] GradientNorms()
    {
        if (!(Training.MaxGradNorm > 0)) kernels.GradientNorm(Gradients, normPartials.View, gradientNorms.View, clipScale.View, Training.MaxGradNorm);
        accelerator.Synchronize();
        kernels.Counter.CopiedToHost();
        return gradientNorms.GetAsArray1D();
    }

    public void ResetOptimizer()
    {
        moment1.MemSetToZero();
        moment2.MemSetToZero();
        Steps = 0;
    }

    // ------------------------------------------------------------------ forward, backward, update

    /// <summary>
    /// Forward over <paramref name="batchSize"/> sequences per replicate, inputs [R][B][BlockSize],
    /// targets [R][B][BlockSize] (or null: logits only). Losses are then read by <see cref="LastLosses"/>.
    /// </summary>
    public void Forward(int[] inputs, int[]? targetValues, int batchSize)
    {
        Upload(inputs, targetValues, batchSize);
        Forward(batchSize, Config.BlockSize, Config.BlockSize, targetValues is not null, writeGradient: false);
    }

    void Upload(int[] inputs, int[]? targetValues, int batchSize)
    {
        var length = (long)Replicates * batchSize * Config.BlockSize;
        if (batchSize < 1 || batchSize > MaxBatch) throw new ArgumentException($"batch {batchSize} outside 1 … {MaxBatch}");
        if (inputs.Length != length) throw new ArgumentException($"inputs hold {inputs.Length} tokens, expected R·B·T = {length}");
        tokens.View.SubView(0, length).CopyFromCPU(inputs);
        kernels.Counter.CopiedToDevice();
        if (targetValues is null) return;
        if (targetValues.Length != length) throw new ArgumentException($"targets hold {targetValues.Length} values, expected {length}");
        targets.View.SubView(0, length).CopyFromCPU(targetValues);
        kernels.Counter.CopiedToDevice();
    }

    /// <summary>
    /// A block's input: <see cref="Stream"/> itself, or (after a block) the residual add Stream + Branch, which the
    /// next LayerNorm's fused launch writes to <see cref="Sum"/> (the block's Output) as it normalizes it.
    /// </summary>
    readonly record struct BlockInput(ArrayView<float> Stream, ArrayView<float> Branch, ArrayView<float> Sum)
    {
        /// <summary>The input's values once its LayerNorm has run.</summary>
        public ArrayView<float> Value => Branch.Length > 0 ? Sum : Stream;
    }

    /// <summary>
    /// One pre-LayerNorm block over N rows per replicate: the caller's attention (over the whole
    /// prefix in training, or the newest position against the key/value cache when sampling)
    /// between the shared projections, MLP and residuals. Returns the block's output as the residual add the
    /// next LayerNorm completes (fused with it: the add, the norm and the product after it are one operation).
    /// </summary>
    BlockInput BlockForward(int layer, BlockInput x, long N, Action<BlockBuffers> attention)
    {
        var (R, C) = (Replicates, Config.Width);
        var p = Parameters;
        var (o, a) = (Layout.Block(layer), blocks[layer]);
        kernels.NormMatMulForward(x.Stream, x.Branch, x.Sum, p, o.Norm1Weight, o.Norm1Bias, Shape(a.Ln1, C), Shape(a.Ln1Mean, 1), Shape(a.Ln1Rstd, 1),
            o.QkvWeight, o.QkvBias, Shape(a.Qkv, 3 * C), R, N, C, 3 * C);
        attention(a);
        kernels.MatMulForward(Shape(a.AttentionOut, C), p, o.AttentionProjWeight, o.AttentionProjBias, Shape(a.AttentionProj, C), R, N, C, C);
        kernels.NormMatMulForward(x.Value, Shape(a.AttentionProj, C), Shape(a.Residual2, C), p, o.Norm2Weight, o.Norm2Bias, Shape(a.Ln2, C),
            Shape(a.Ln2Mean, 1), Shape(a.Ln2Rstd, 1), o.FcWeight, o.FcBias, Shape(a.Fc, 4 * C), R, N, C, 4 * C, activated: Shape(a.FcGelu, 4 * C));
        kernels.MatMulForward(Shape(a.FcGelu, 4 * C), p, o.FcProjWeight, o.FcProjBias, Shape(a.FcProj, C), R, N, 4 * C, C);
        return new BlockInput(Shape(a.Residual2, C), Shape(a.FcProj, C), Shape(a.Output, C));
    }

    /// <summary>The last block's residual add, the final LayerNorm and the head: logits [R][N][V].</summary>
    void HeadForward(BlockInput x, long N)
    {
        var (C, V) = (Config.Width, Config.Vocab);
        kernels.NormMatMulForward(x.Stream, x.Branch, x.Sum, Parameters, Layout.FinalNormWeight, Layout.FinalNormBias, Shape(lnf, C),
            Shape(lnfMean, 1), Shape(lnfRstd, 1), Layout.Head, -1, Shape(logits, V), Replicates, N, C, V);
    }

    /// <summary>
    /// The forward over the first <paramref name="positions"/> positions of [R][B][stride] device
    /// tokens; with targets, the losses (and, for training, d loss/d logits in place of the logits).
    /// </summary>
    void Forward(int batchSize, int positions, int stride, bool withTargets, bool writeGradient)
    {
        (batch, time, tokenStride) = (batchSize, positions, stride);
        var (R, C, NH, V) = (Replicates, Config.Width, Config.Heads, Config.Vocab);
        var N = (long)batch * time;
        var p = Parameters;
        kernels.EncoderForward(tokens.View.SubView(0, (long)R * batch * stride), stride, p, Layout, Shape(encoded, C), batch, time);
        var x = new BlockInput(Shape(encoded, C), default, default);
        for (var l = 0; l < Config.Layers; l++)
            x = BlockForward(l, x, N, a => kernels.AttentionForward(Shape(a.Qkv, 3 * C), Shape(a.Att, NH * time), Shape(a.AttentionOut, C), time, C, NH));
        HeadForward(x, N);
        if (!withTargets) return;
        var targetView = targets.View.SubView(0, R * N);
        kernels.CrossEntropyLoss(Shape(logits, V), targetView, counts.View, lossScale.View, Shape(losses, 1), lossSums.View, N, V, writeGradient);
    }

    /// <summary>Each replicate's mean loss over its predicted positions in the last forward with targets.</summary>
    public double[] LastLosses()
    {
        var (sums, predicted) = LastLossSums();
        return sums.Select((s, r) => s / predicted[r]).ToArray();
    }

    (double[] Sums, int[] Counts) LastLossSums()
    {
        accelerator.Synchronize();
        kernels.Counter.CopiedToHost();
        kernels.Counter.CopiedToHost();
        return (lossSums.GetAsArray1D(), counts.GetAsArray1D());
    }

    /// <summary>Logits [R][B][T][V] of the last forward (before a training forward replaced them by their gradient).</summary>
    public float[] LastLogits()
    {
        accelerator.Synchronize();
        return ToHost(Shape(logits, Config.Vocab));
    }

    /// <summary>Gradients of the mean loss of the last forward (run with writeGradient), into the gradient buffer.</summary>
    void Backward()
    {
        var (R, C, NH, V) = (Replicates, Config.Width, Config.Heads, Config.Vocab);
        var N = (long)batch * time;
        var (p, g) = (Parameters, Gradients);
        var dres = Shape(dResidual, C);
        dres.MemSetToZero();
        var top = Shape(blocks[^1].Output, C);
        // The logits now hold d loss/d logits (written by the fused cross-entropy).
        kernels.MatMulBackward(Shape(logits, V), Shape(lnf, C), p, Layout.Head, -1, Shape(dNorm, C), g, R, N, C, V);
        kernels.LayerNormBackward(Shape(dNorm, C), top, p, Layout.FinalNormWeight, Layout.FinalNormBias, Shape(lnfMean, 1), Shape(lnfRstd, 1),
            dres, g, R, N, C);
        for (var l = Config.Layers - 1; l >= 0; l--)
        {
            var (o, a) = (Layout.Block(l), blocks[l]);
            var input = l == 0 ? Shape(encoded, C) : Shape(blocks[l - 1].Output, C);
            // dres holds d loss/d Output; Output = Residual2 + MLP(Ln2(Residual2)).
            // The GELU's backward is fused into the input gradient: dFc = (dres·W)·gelu'(Fc).
            kernels.MatMulBackward(dres, Shape(a.FcGelu, 4 * C), p, o.FcProjWeight, o.FcProjBias, Shape(dFc, 4 * C), g, R, N, 4 * C, C,
                geluInput: Shape(a.Fc, 4 * C));
            kernels.MatMulBackward(Shape(dFc, 4 * C), Shape(a.Ln2, C), p, o.FcWeight, o.FcBias, Shape(dNorm, C), g, R, N, C, 4 * C);
            kernels.LayerNormBackward(Shape(dNorm, C), Shape(a.Residual2, C), p, o.Norm2Weight, o.Norm2Bias, Shape(a.Ln2Mean, 1), Shape(a.Ln2Rstd, 1),
                dres, g, R, N, C);
            // dres now holds d loss/d Residual2; Residual2 = Input + Attention(Ln1(Input)).
            kernels.MatMulBackward(dres, Shape(a.AttentionOut, C), p, o.AttentionProjWeight, o.AttentionProjBias, Shape(dAttentionOut, C), g, R, N, C, C);
            kernels.AttentionBackward(Shape(a.Qkv, 3 * C), Shape(a.Att, NH * time), Shape(dAttentionOut, C), Shape(dPre, NH * time),
                Shape(dQkv, 3 * C), time, C, NH);
            kernels.MatMulBackward(Shape(dQkv, 3 * C), Shape(a.Ln1, C), p, o.QkvWeight, o.QkvBias, Shape(dNorm, C), g, R, N, C, 3 * C);
            kernels.LayerNormBackward(Shape(dNorm, C), input, p, o.Norm1Weight, o.Norm1Bias, Shape(a.Ln1Mean, 1), Shape(a.Ln1Rstd, 1),
                dres, g, R, N, C);
        }
        kernels.EncoderBackward(tokens.View.SubView(0, (long)R * batch * tokenStride), tokenStride, dres, g, Layout, R, batch, time);
    }

    /// <summary>Forward with targets and backward: the gradients of every replicate's mean loss on a batch of batchSize sequences.</summary>
    public void ComputeGradients(int[] inputs, int[] targetValues, int batchSize)
    {
        Upload(inputs, targetValues, batchSize);
        Forward(batchSize, Config.BlockSize, Config.BlockSize, withTargets: true, writeGradient: true);
        Backward();
    }

    /// <summary>Gradient norm and clipping when <see cref="GptTraining.MaxGradNorm"/> is on, then one AdamW step for every replicate.</summary>
    public void Update()
    {
        if (Training.MaxGradNorm > 0) kernels.GradientNorm(Gradients, normPartials.View, gradientNorms.View, clipScale.View, Training.MaxGradNorm);
        kernels.AdamW(Parameters, gradients.View, moment1.View, moment2.View, clipScale.View, Training, ++Steps);
    }

    /// <summary>Launches and host↔device copies so far (<see cref="LmKernels.Counter"/>; launches of the ILGPU path, where every operation is a kernel).</summary>
    public LaunchCounts Counts => kernels.Counter.Snapshot();

    /// <summary>One training step on a batch of <see cref="GptTraining.Batch"/> sequences per replicate ([R][B][BlockSize] each).</summary>
    public void TrainStep(int[] inputs, int[] targetValues)
    {
        ComputeGradients(inputs, targetValues, Training.Batch);
        Update();
    }

    /// <summary>
    /// One training step on a batch drawn from <paramref name="data"/> as makemore draws it: B rows per
    /// replicate, uniformly with replacement, row i of step s being integer s·B + i of
    /// stream.ForReplicate(firstReplicate + r).
    /// </summary>
    public void TrainStep(TokenSet data, RandomStream batches, int step, int firstReplicate = 0)
    {
        var (inputs, targetValues) = GatherBatch(data, batches, step, firstReplicate);
        TrainStep(inputs, targetValues);
    }

    // A fit's training set on the device ([sets][m][T] inputs and targets) and the order of its rows in two
    // consecutive epochs ([2][R][m], from epoch epochBase / m): a step gathers its batch there, copying nothing.
    MemoryBuffer1D<int, Stride1D.Dense>? setInputs, setTargets, setOrders;
    int setCount, setSets;
    long epochBase = -1;

    /// <summary>Keeps <paramref name="data"/> on the device for the steps of <see cref="ComputeGradients(long, int)"/> (two copies, once per fit).</summary>
    public void LoadTrainingSet(TokenSet data)
    {
        CheckSet(data);
        if (setInputs is null || setInputs.Length != data.Inputs.Length)
        {
            setInputs?.Dispose();
            setTargets?.Dispose();
            setInputs = accelerator.Allocate1D<int>(data.Inputs.Length);
            setTargets = accelerator.Allocate1D<int>(data.Targets.Length);
        }
        setInputs.View.CopyFromCPU(data.Inputs);
        setTargets!.View.CopyFromCPU(data.Targets);
        kernels.Counter.CopiedToDevice();
        kernels.Counter.CopiedToDevice();
        (setSets, setCount, epochBase) = (data.Sets, data.Count, -1);
    }

    /// <summary>
    /// The row orders of the epoch starting at global position <paramref name="start"/> (a multiple of the set's
    /// size) and of the next one (null: not needed), [R][m] each: one copy per epoch.
    /// </summary>
    public void LoadOrders(long start, int[][] current, int[][]? next)
    {
        if (setInputs is null) throw new InvalidOperationException("load a training set first");
        var m = setCount;
        if (current.Length != Replicates || current.Any(o => o.Length != m) || next is not null && (next.Length != Replicates || next.Any(o => o.Length != m)))
            throw new ArgumentException($"orders must be [{Replicates}][{m}]");
        var flat = new int[2L * Replicates * m];
        for (var r = 0; r < Replicates; r++)
        {
            Array.Copy(current[r], 0, flat, (long)r * m, m);
            if (next is not null) Array.Copy(next[r], 0, flat, ((long)Replicates + r) * m, m);
        }
        if (setOrders is null || setOrders.Length != flat.Length)
        {
            setOrders?.Dispose();
            setOrders = accelerator.Allocate1D<int>(flat.Length);
        }
        setOrders.View.CopyFromCPU(flat);
        kernels.Counter.CopiedToDevice();
        epochBase = start;
    }

    /// <summary>
    /// Gradients of the <paramref name="size"/> rows per replicate at global positions first … first + size − 1 of the
    /// loaded training set in the loaded orders, gathered on the device (the same rows, in the same order, as uploading them).
    /// </summary>
    public void ComputeGradients(long first, int size)
    {
        if (setInputs is null || setOrders is null) throw new InvalidOperationException("load a training set and its orders first");
        if (size < 1 || size > MaxBatch) throw new ArgumentException($"batch {size} outside 1 … {MaxBatch}");
        if (first < epochBase || first + size > epochBase + 2L * setCount)
            throw new ArgumentException($"positions {first} … {first + size - 1} are outside the loaded epochs ({epochBase} … {epochBase + 2L * setCount - 1})");
        var T = Config.BlockSize;
        var length = (long)Replicates * size * T;
        kernels.GatherRows(setInputs.View, setTargets!.View, setOrders.View, setSets, setCount, T, first, size, epochBase,
            tokens.View.SubView(0, length), targets.View.SubView(0, length));
        Forward(size, T, T, withTargets: true, writeGradient: true);
        Backward();
    }

    /// <summary>The batch <see cref="TrainStep(TokenSet, RandomStream, int, int)"/> trains on, [R][B][T] each.</summary>
    public (int[] Inputs, int[] Targets) GatherBatch(TokenSet data, RandomStream batches, int step, int firstReplicate = 0)
    {
        CheckSet(data);
        var (B, T) = (Training.Batch, Config.BlockSize);
        var inputs = new int[Replicates * B * T];
        var targetValues = new int[inputs.Length];
        for (var r = 0; r < Replicates; r++)
        {
            var stream = batches.ForReplicate((uint)(firstReplicate + r));
            for (var i = 0; i < B; i++)
            {
                var row = data.RowOf(r, (int)Philox.UniformIntAt(stream, (ulong)step * (ulong)B + (ulong)i, (uint)data.Count));
                Array.Copy(data.Inputs, row, inputs, (long)(r * B + i) * T, T);
                Array.Copy(data.Targets, row, targetValues, (long)(r * B + i) * T, T);
            }
        }
        return (inputs, targetValues);
    }

    void CheckSet(TokenSet data)
    {
        if (data.BlockSize != Config.BlockSize) throw new ArgumentException($"token set block size {data.BlockSize} ≠ model block size {Config.BlockSize}");
        if (data.Sets != 1 && data.Sets != Replicates) throw new ArgumentException($"token set has {data.Sets} sets; expected 1 or {Replicates}");
        if (data.Count < 1) throw new ArgumentException("token set is empty");
    }

    // ------------------------------------------------------------------ evaluation and sampling

    /// <summary>
    /// Each replicate's cross-entropy in nats per predicted character over every row of its set
    /// (the end token included), in batches of <see cref="MaxBatch"/>.
    /// </summary>
    public double[] Evaluate(TokenSet data)
    {
        CheckSet(data);
        var T = Config.BlockSize;
        var totals = new double[Replicates];
        var predicted = new long[Replicates];
        for (var start = 0; start < data.Count; start += MaxBatch)
        {
            var size = Math.Min(MaxBatch, data.Count - start);
            var inputs = new int[Replicates * size * T];
            var targetValues = new int[inputs.Length];
            for (var r = 0; r < Replicates; r++)
            {
                Array.Copy(data.Inputs, data.RowOf(r, start), inputs, (long)r * size * T, (long)size * T);
                Array.Copy(data.Targets, data.RowOf(r, start), targetValues, (long)r * size * T, (long)size * T);
            }
            Forward(inputs, targetValues, size);
            var (sums, batchCounts) = LastLossSums();
            for (var r = 0; r < Replicates; r++)
            {
                totals[r] += sums[r];
                predicted[r] += batchCounts[r];
            }
        }
        return totals.Select((total, r) => total / predicted[r]).ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> sequences per replicate, generated one token at a time from the
    /// start token at a
    /// temperature (0: argmax), each ending at its first end token or at the block's end.
    /// Returns the token rows [R][count][BlockSize] (start token first, 0 after the end); sequence
    /// i of replicate r depends only on (stream, firstReplicate + r, i), not on the batching.
    /// </summary>
    public int[] Sample(int count, float temperature, RandomStream stream, int firstReplicate = 0) =>
        SampleCached(count, temperature, stream, firstReplicate);

    /// <summary>
    /// <see cref="Sample"/> as makemore runs it: the whole prefix is run again at every step, T(T−1)/2
    /// positions per sequence instead of T − 1. Kept as the reference the cached sampler is tested against.
    /// </summary>
    public int[] SampleFullPrefix(int count, float temperature, RandomStream stream, int firstReplicate = 0)
    {
        if (!(temperature >= 0)) throw new ArgumentException($"temperature {temperature}: must be ≥ 0");
        var T = Config.BlockSize;
        var rows = new int[(long)Replicates * count * T];
        for (var start = 0; start < count; start += MaxBatch)
        {
            var size = Math.Min(MaxBatch, count - start);
            ArrayView<int> view = tokens.View.SubView(0, (long)Replicates * size * T);
            view.MemSetToZero();
            for (var position = 1; position < T; position++)
            {
                Forward(size, position, T, withTargets: false, writeGradient: false);
                kernels.SampleStep(Shape(logits, Config.Vocab), view, stream, firstReplicate, start, size, T, position, Config.Vocab, temperature);
            }
            accelerator.Synchronize();
            var chunk = ToHost(view);
            for (var r = 0; r < Replicates; r++)
                Array.Copy(chunk, (long)r * size * T, rows, ((long)r * count + start) * T, (long)size * T);
        }
        return rows;
    }

    /// <summary>
    /// The sampler with a key/value cache: each step runs only the newest position through the model
    /// (its embedding, then every block on one row per sequence, attention against the keys and values
    /// of the positions before it, kept per block), so a sequence costs T − 1 positions, not T(T−1)/2.
    /// Every row operation is the one the full forward applies to that position, so the tokens are the
    /// same as <see cref="SampleFullPrefix"/>'s (tested). On the CPU path finished sequences also leave the
    /// chunk (<see cref="Compact"/>): names end after about 7 of 16 positions, and every row operation is
    /// independent of the rows beside it, so dropping them changes no token and halves the work.
    /// </summary>
    public int[] SampleCached(int count, float temperature, RandomStream stream, int firstReplicate = 0)
    {
        if (!(temperature >= 0)) throw new ArgumentException($"temperature {temperature}: must be ≥ 0");
        var (T, C, NH, V, R) = (Config.BlockSize, Config.Width, Config.Heads, Config.Vocab, Replicates);
        kvCache ??= [.. Enumerable.Range(0, Config.Layers).Select(_ => Floats((long)R * SampleBatch * T * 2 * C))];
        sampleTokens ??= Ints((long)R * SampleBatch * T);
        // Host memory on the CPU path: rows move between steps with plain copies (on a device that would be a copy per row).
        var compact = kernels.UsesSimd;
        if (compact) sampleSequences ??= Ints((long)R * SampleBatch);
        var rows = new int[(long)R * count * T];
        var p = Parameters;
        using var frozen = kernels.UsesSimd ? LmKernels.FreezeWeights() : null; // the weights do not change while sampling
        for (var start = 0; start < count; start += SampleBatch)
        {
            var size = Math.Min(SampleBatch, count - start);
            ArrayView<int> view = sampleTokens.View.SubView(0, (long)R * size * T);
            view.MemSetToZero();
            var live = size; // rows per replicate still sampled (all of them unless compacting)
            if (compact)
                unsafe
                {
                    var map = Pointer(sampleSequences!);
                    for (var r = 0; r < R; r++)
                        for (var b = 0; b < size; b++) map[r * size + b] = b;
                }
            for (var position = 1; position < T && live > 0; position++)
            {
                view = sampleTokens.View.SubView(0, (long)R * live * T);
                (batch, time, tokenStride) = (live, 1, T);
                long N = live;
                kernels.EncoderForwardAt(view, T, p, Layout, Shape(encoded, C), live, position - 1);
                var x = new BlockInput(Shape(encoded, C), default, default);
                for (var l = 0; l < Config.Layers; l++)
                {
                    var cache = kvCache[l].View.SubView(0, (long)R * live * T * 2 * C);
                    x = BlockForward(l, x, N, a => kernels.AttentionForwardCached(Shape(a.Qkv, 3 * C), cache,
                        a.Att.View.SubView(0, (long)R * live * NH * T), Shape(a.AttentionOut, C), position - 1, T, C, NH));
                }
                HeadForward(x, N);
                kernels.SampleStep(Shape(logits, V), view, stream, firstReplicate, start, live, T, position, V, temperature, logitsTime: 1,
                    sequences: compact ? sampleSequences!.View.SubView(0, (long)R * live) : default);
                if (compact && position < T - 1) live = Compact(live, position, rows, count, start);
            }
            accelerator.Synchronize();
            if (compact)
            {
                CopyOut(live, rows, count, start);
                continue;
            }
            var chunk = ToHost(view);
            for (var r = 0; r < R; r++)
                Array.Copy(chunk, (long)r * size * T, rows, ((long)r * count + start) * T, (long)size * T);
        }
        return rows;
    }

    /// <summary>How many times the cached sampler compacted a chunk (dropped its finished sequences), counted for the tests.</summary>
    internal int SampleCompactions { get; private set; }

    /// <summary>
    /// After the step that wrote <paramref name="position"/>: when the most unfinished sequences any replicate has is at
    /// most ¾ of the <paramref name="live"/> rows, each replicate keeps that many rows (its unfinished sequences, then
    /// finished ones to fill, in row order), moving their tokens, sequence numbers and cached keys and values down to
    /// the narrower layout; the rows dropped are finished and go to <paramref name="rows"/> now. Returns the new row count
    /// (0: every sequence has ended).
    /// </summary>
    unsafe int Compact(int live, int position, int[] rows, int count, int start)
    {
        accelerator.Synchronize();
        var (T, R, C) = (Config.BlockSize, Replicates, Config.Width);
        var tokens = Pointer(sampleTokens!);
        var map = Pointer(sampleSequences!);
        var active = new List<int>[R];
        var kept = 0;
        for (var r = 0; r < R; r++)
        {
            active[r] = [];
            for (var b = 0; b < live; b++)
            {
                var row = tokens + ((long)r * live + b) * T;
                var finished = false;
                for (var t = 1; t <= position && !finished; t++) finished = row[t] == SamplerKernels.EndToken;
                if (!finished) active[r].Add(b);
            }
            kept = Math.Max(kept, active[r].Count);
        }
        if (kept > live * 3 / 4) return live;
        SampleCompactions++;
        // Rows kept per replicate, ascending, so every move goes to a lower address than any row still to be read.
        var keep = new int[R][];
        for (var r = 0; r < R; r++)
        {
            var chosen = new bool[live];
            foreach (var b in active[r]) chosen[b] = true;
            for (int b = 0, extra = kept - active[r].Count; b < live && extra > 0; b++)
                if (!chosen[b]) (chosen[b], extra) = (true, extra - 1);
            keep[r] = [.. Enumerable.Range(0, live).Where(b => chosen[b])];
            for (var b = 0; b < live; b++)
                if (!chosen[b]) CopyRow(tokens + ((long)r * live + b) * T, rows, r, count, start + map[r * live + b]);
        }
        var entries = (long)position * 2 * C; // cached keys and values of positions 0 … position − 1
        var caches = kvCache!.Select(c => (nint)Pointer(c)).ToArray();
        for (var r = 0; r < R; r++)
            for (var j = 0; j < kept; j++)
            {
                long from = (long)r * live + keep[r][j], to = (long)r * kept + j;
                if (from == to) continue;
                Buffer.MemoryCopy(tokens + from * T, tokens + to * T, T * sizeof(int), T * sizeof(int));
                map[to] = map[from];
                foreach (float* cache in caches)
                    Buffer.MemoryCopy(cache + from * T * 2 * C, cache + to * T * 2 * C, entries * sizeof(float), entries * sizeof(float));
            }
        return kept;
    }

    /// <summary>The compacting sampler's remaining rows into <paramref name="rows"/>, each at its sequence's place.</summary>
    unsafe void CopyOut(int live, int[] rows, int count, int start)
    {
        var T = Config.BlockSize;
        var tokens = Pointer(sampleTokens!);
        var map = Pointer(sampleSequences!);
        for (var r = 0; r < Replicates; r++)
            for (var b = 0; b < live; b++) CopyRow(tokens + ((long)r * live + b) * T, rows, r, count, start + map[r * live + b]);
    }

    static unsafe int* Pointer(MemoryBuffer1D<int, Stride1D.Dense> buffer) => (int*)((ArrayView<int>)buffer.View).LoadEffectiveAddressAsPtr();
    static unsafe float* Pointer(MemoryBuffer1D<float, Stride1D.Dense> buffer) => (float*)((ArrayView<float>)buffer.View).LoadEffectiveAddressAsPtr();

    unsafe void CopyRow(int* row, int[] rows, int replicate, int count, int sequence) =>
        new ReadOnlySpan<int>(row, Config.BlockSize).CopyTo(rows.AsSpan(((int)((long)replicate * count + sequence)) * Config.BlockSize, Config.BlockSize));

    /// <summary>
    /// Sequences per replicate one cached sampling chunk holds: a step runs one position per sequence,
    /// so the activation buffers (sized for <see cref="MaxBatch"/> sequences of T positions) hold T times
    /// more sequences than a full forward; 4 × MaxBatch keeps the key/value cache modest while cutting
    /// the launches per sampled name 4× (launch overhead dominated the cached sampler on the CPU).
    /// </summary>
    public int SampleBatch => (int)Math.Min((long)MaxBatch * Config.BlockSize, 4L * MaxBatch);

    /// <summary>Bytes the cached sampler adds per replicate (its key/value cache and token rows), allocated on first use.</summary>
    public static long SamplerBytesPerReplicate(GptConfig config, int maxBatch)
    {
        var chunk = Math.Min((long)maxBatch * config.BlockSize, 4L * maxBatch);
        return chunk * config.BlockSize * (4L * 2 * config.Width * config.Layers + 4) + chunk * 4L; // + the CPU path's row → sequence map
    }

    // Per block, the keys and values of the positions sampled so far, [R][SampleBatch][T][2C], and the
    // rows being sampled, [R][SampleBatch][T]; allocated by the first cached sample.
    MemoryBuffer1D<float, Stride1D.Dense>[]? kvCache;
    MemoryBuffer1D<int, Stride1D.Dense>? sampleTokens;
    // The CPU path's compacting sampler: the sequence (within its chunk) each row holds, [R][rows].
    MemoryBuffer1D<int, Stride1D.Dense>? sampleSequences;

    T[] ToHost<T>(ArrayView<T> view) where T : unmanaged
    {
        var host = new T[view.Length];
        view.CopyToCPU(host);
        kernels.Counter.CopiedToHost();
        return host;
    }

    public void Dispose()
    {
        foreach (var buffer in owned) buffer.Dispose();
        owned.Clear();
        setInputs?.Dispose();
        setTargets?.Dispose();
        setOrders?.Dispose();
    }
}
