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
/// <param name="WarmupSteps">
/// Linear learning-rate warm-up: step s (from 1) of a fit uses LearningRate·min(1, s / WarmupSteps);
/// 0 (the default, makemore's) uses LearningRate from the first step. A warm-up keeps the first
/// steps' large, noisy Adam updates (its moments start at zero) from knocking a pretrained model off
/// what it knows; for the bases here it did not pay (see <see cref="GptPreset"/>).
/// </param>
public sealed record GptTraining(int Batch, double LearningRate, double Beta1 = 0.9, double Beta2 = 0.99,
    double Epsilon = 1e-8, double WeightDecay = 0.01, double MaxGradNorm = 0, int WarmupSteps = 0)
{
    public GptTraining Validated()
    {
        if (Batch < 1) throw new ArgumentException($"batch {Batch}: need at least 1");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate {LearningRate}: must be positive");
        if (MaxGradNorm < 0) throw new ArgumentException($"max gradient norm {MaxGradNorm}: must be ≥ 0 (0 = no clipping)");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps {WarmupSteps}: must be ≥ 0 (0 = none)");
        return this;
    }

    /// <summary>The learning rate of step <paramref name="step"/> (≥ 1) of a fit.</summary>
    public double LearningRateAt(int step) => WarmupSteps > 0 && step < WarmupSteps ? LearningRate * step / WarmupSteps : LearningRate;
}

/// <summary>
/// A named model size and training recipe; vocabulary and block size are filled in from the data.
/// <paramref name="Training"/> trains from scratch (and pretrains a base); <paramref name="Finetune"/>
/// fine-tunes a pretrained base. Chosen by measurement, one fit on all training names for one epoch
/// (results/lm/finetune-recipe.md, <c>scripts/lm/finetune-recipe.cs</c>): for makemore twice its
/// own rate without a warm-up ended lowest (2.094 nats; 2.105 at its own rate, 2.147 and 2.189 at
/// 2.5× and 5× lower, and a 50-step warm-up 0.003–0.004 higher); for tiny its own rate and twice it
/// tied (2.146, 2.145). No warm-up also keeps the mix study's few-step fits from staying near the base.
/// <c>--finetune-lr</c> and <c>--finetune-warmup</c> change them.
/// </summary>
public sealed record GptPreset(string Name, int Layers, int Width, int Heads, GptTraining Training, GptTraining Finetune)
{
    /// <summary>makemore's default transformer and optimizer (4 layers, width 64, 4 heads, batch 32, AdamW 5e-4).</summary>
    public static readonly GptPreset Makemore = new("makemore", 4, 64, 4, new GptTraining(32, 5e-4), new GptTraining(32, 1e-3));

    /// <summary>
    /// A smaller model for CPU runs: 2 layers of width 32 (~27K parameters against makemore's 204K,
    /// ~7× fewer flops per token). A larger learning rate than makemore's (2e-3) makes a few hundred
    /// steps enough to learn the names' character statistics; it trains stably at this size.
    /// </summary>
    public static readonly GptPreset Tiny = new("tiny", 2, 32, 4, new GptTraining(32, 2e-3), new GptTraining(32, 2e-3));

    /// <summary>
    /// The third size, about 6× makemore (6 layers of width 128, 8 heads of 16: ~1.2M parameters), so
    /// the three span well over an order of magnitude as the paper's 2B, 9B and 27B do; a lower
    /// learning rate, as larger transformers want, and twice it for fine-tuning as makemore's measurement
    /// suggests (neither tuned at this size).
    /// </summary>
    public static readonly GptPreset Large = new("large", 6, 128, 8, new GptTraining(32, 3e-4), new GptTraining(32, 6e-4));

    public static readonly IReadOnlyList<GptPreset> All = [Makemore, Tiny, Large];

    public static GptPreset Parse(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown preset '{name}': expected one of {string.Join(", ", All.Select(p => p.Name))}");

    public GptConfig Config(int vocab, int blockSize) => new GptConfig(vocab, blockSize, Layers, Width, Heads).Validated();
}
