namespace Collapse.Kernels.Lm;

/// <summary>How a parameter tensor starts out (PyTorch's defaults, which makemore keeps).</summary>
public enum ParameterInit
{
    /// <summary><c>nn.Embedding</c>: N(0, 1).</summary>
    Normal,
    /// <summary><c>nn.Linear</c> weight and bias: U(−1/√fan_in, 1/√fan_in).</summary>
    UniformFanIn,
    /// <summary>LayerNorm weight.</summary>
    One,
    /// <summary>LayerNorm bias.</summary>
    Zero,
}

/// <summary>One parameter tensor: where it lives inside a replicate's parameter vector.</summary>
public readonly record struct ParameterTensor(string Name, long Offset, long Length, ParameterInit Init, int FanIn);

/// <summary>Offsets of one transformer block's tensors. Weights are [out][in], as PyTorch's nn.Linear stores them.</summary>
public readonly record struct BlockOffsets(
    long Norm1Weight, long Norm1Bias, long QkvWeight, long QkvBias, long AttentionProjWeight, long AttentionProjBias,
    long Norm2Weight, long Norm2Bias, long FcWeight, long FcBias, long FcProjWeight, long FcProjBias);

/// <summary>
/// Every replicate's parameters are one contiguous float vector of <see cref="Count"/> numbers
/// (and the gradients and AdamW moments share the layout), replicates back to back: [R][Count].
/// One vector per replicate makes the optimizer and the gradient norm a single flat loop, and
/// copying a model (the same initial weights every iteration) one copy.
/// The head is makemore's <c>lm_head</c>: untied from the token embedding and without a bias.
/// </summary>
public sealed class GptLayout
{
    public GptConfig Config { get; }
    public long TokenEmbedding { get; }
    public long PositionEmbedding { get; }
    public long FinalNormWeight { get; }
    public long FinalNormBias { get; }
    public long Head { get; }
    public long Count { get; }
    public IReadOnlyList<ParameterTensor> Tensors { get; }

    readonly BlockOffsets[] blocks;

    public BlockOffsets Block(int layer) => blocks[layer];

    public GptLayout(GptConfig config)
    {
        Config = config.Validated();
        var (v, t, c) = (config.Vocab, config.BlockSize, config.Width);
        var tensors = new List<ParameterTensor>();
        long next = 0;
        long Add(string name, long length, ParameterInit init, int fanIn = 0)
        {
            tensors.Add(new ParameterTensor(name, next, length, init, fanIn));
            next += length;
            return next - length;
        }
        TokenEmbedding = Add("wte", (long)v * c, ParameterInit.Normal);
        PositionEmbedding = Add("wpe", (long)t * c, ParameterInit.Normal);
        blocks = new BlockOffsets[config.Layers];
        for (var l = 0; l < config.Layers; l++)
            blocks[l] = new BlockOffsets(
                Norm1Weight: Add($"h{l}.ln_1.weight", c, ParameterInit.One),
                Norm1Bias: Add($"h{l}.ln_1.bias", c, ParameterInit.Zero),
                QkvWeight: Add($"h{l}.attn.c_attn.weight", 3L * c * c, ParameterInit.UniformFanIn, c),
                QkvBias: Add($"h{l}.attn.c_attn.bias", 3L * c, ParameterInit.UniformFanIn, c),
                AttentionProjWeight: Add($"h{l}.attn.c_proj.weight", (long)c * c, ParameterInit.UniformFanIn, c),
                AttentionProjBias: Add($"h{l}.attn.c_proj.bias", c, ParameterInit.UniformFanIn, c),
                Norm2Weight: Add($"h{l}.ln_2.weight", c, ParameterInit.One),
                Norm2Bias: Add($"h{l}.ln_2.bias", c, ParameterInit.Zero),
                FcWeight: Add($"h{l}.mlp.c_fc.weight", 4L * c * c, ParameterInit.UniformFanIn, c),
                FcBias: Add($"h{l}.mlp.c_fc.bias", 4L * c, ParameterInit.UniformFanIn, c),
                FcProjWeight: Add($"h{l}.mlp.c_proj.weight", 4L * c * c, ParameterInit.UniformFanIn, 4 * c),
                FcProjBias: Add($"h{l}.mlp.c_proj.bias", c, ParameterInit.UniformFanIn, 4 * c));
        FinalNormWeight = Add("ln_f.weight", c, ParameterInit.One);
        FinalNormBias = Add("ln_f.bias", c, ParameterInit.Zero);
        Head = Add("lm_head.weight", (long)v * c, ParameterInit.UniformFanIn, c);
        Count = next;
        Tensors = tensors;
    }
}
