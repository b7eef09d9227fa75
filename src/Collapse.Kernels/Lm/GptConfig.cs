namespace Collapse.Kernels.Lm;

/// <summary>
/// The shape of a character-level GPT (docs/DESIGN.md, section C): token and position embeddings,
/// <see cref="Layers"/> pre-LayerNorm blocks of causal multi-head self-attention and a GELU MLP of
/// 4× width, a final LayerNorm and a linear head. Vocabulary and block size come from the data
/// (token 0 is both the start and the end of a name, as in makemore).
/// </summary>
public sealed record GptConfig(int Vocab, int BlockSize, int Layers, int Width, int Heads)
{
    public int HeadSize => Width / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public GptConfig Validated()
    {
        if (Vocab < 2) throw new ArgumentException($"vocabulary of {Vocab} tokens: need at least 2 (the end token and one character)");
        if (BlockSize < 2) throw new ArgumentException($"block size {BlockSize}: need at least 2 (the start token and one character)");
        if (Layers < 1) throw new ArgumentException($"layers {Layers}: need at least 1");
        if (Width < 1) throw new ArgumentException($"width {Width}: need at least 1");
        if (Heads < 1) throw new ArgumentException($"heads {Heads}: need at least 1");
        if (Width % Heads != 0) throw new ArgumentException($"width {Width} is not divisible by heads {Heads}");
        return this;
    }
}

/// <summary>
/// How one replicate trains: makemore's AdamW (torch semantics, decay on every parameter as
/// makemore passes <c>model.parameters()</c> whole) and an optional global gradient-norm clip.
/// </summary>
/// <param name="MaxGradNorm">
/// Clip each replicate's gradient to this global L2 norm (torch's <c>clip_grad_norm_</c>); 0 turns
/// clipping off. Off by default: makemore does not clip, and the quality goal is to match
/// makemore's test loss at equal steps; at lr 5e-4 with pre-LayerNorm blocks its training is
/// stable without it. Turn it on (1.0 is the usual GPT-2 value) for larger learning rates.
/// </param>
public sealed record GptTraining(int Batch, double LearningRate, double Beta1 = 0.9, double Beta2 = 0.99,
    double Epsilon = 1e-8, double WeightDecay = 0.01, double MaxGradNorm = 0)
{
    public GptTraining Validated()
    {
        if (Batch < 1) throw new ArgumentException($"batch {Batch}: need at least 1");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate {LearningRate}: must be positive");
        if (MaxGradNorm < 0) throw new ArgumentException($"max gradient norm {MaxGradNorm}: must be ≥ 0 (0 = no clipping)");
        return this;
    }
}

/// <summary>A named model size and training recipe; vocabulary and block size are filled in from the data.</summary>
public sealed record GptPreset(string Name, int Layers, int Width, int Heads, GptTraining Training)
{
    /// <summary>makemore's default transformer and optimizer (4 layers, width 64, 4 heads, batch 32, AdamW 5e-4).</summary>
    public static readonly GptPreset Makemore = new("makemore", 4, 64, 4, new GptTraining(32, 5e-4));

    /// <summary>
    /// A smaller model for CPU runs: 2 layers of width 32 (~27K parameters against makemore's 204K,
    /// ~7× fewer flops per token). A larger learning rate than makemore's (2e-3) makes a few hundred
    /// steps enough to learn the names' character statistics; it trains stably at this size.
    /// </summary>
    public static readonly GptPreset Tiny = new("tiny", 2, 32, 4, new GptTraining(32, 2e-3));

    public static readonly IReadOnlyList<GptPreset> All = [Makemore, Tiny];

    public static GptPreset Parse(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown preset '{name}': expected one of {string.Join(", ", All.Select(p => p.Name))}");

    public GptConfig Config(int vocab, int blockSize) => new GptConfig(vocab, blockSize, Layers, Width, Heads).Validated();
}
