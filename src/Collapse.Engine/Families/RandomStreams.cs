namespace Collapse.Engine.Families;

/// <summary>
/// Stream identifiers: the fourth coordinate of every random number (seed, replicate,
/// iteration, stream, index). Distinct purposes never share numbers.
/// </summary>
public static class RandomStreams
{
    public const uint RealData = 1;
    public const uint Synthetic = 2;
    public const uint Subsample = 3;

    /// <summary>A seed's real distribution itself (the blob centers), drawn once per seed.</summary>
    public const uint Distribution = 4;
    /// <summary>Uniforms of the real training data, where a dataset needs them beside normals (swiss roll).</summary>
    public const uint RealDataUniforms = 5;
    /// <summary>The held-out real test set: normals, then uniforms.</summary>
    public const uint TestData = 6, TestDataUniforms = 7;
    /// <summary>Which fitted point each KDE sample starts from (its noise comes from <see cref="Synthetic"/>).</summary>
    public const uint SyntheticChoices = 8;

    /// <summary>
    /// The language model's fixed split of its corpus into test and training documents: drawn once
    /// with master seed 0 and replicate 0 whatever --seed is, so the split belongs to the corpus.
    /// </summary>
    public const uint CorpusSplit = 9;
    /// <summary>A language model's initial weights (PyTorch's default: normals for embeddings, uniforms for linear layers).</summary>
    public const uint ModelInitNormals = 10, ModelInitUniforms = 11;
    /// <summary>The order in which a language-model fit visits its training examples (one permutation per epoch).</summary>
    public const uint TrainingOrder = 12;
    /// <summary>
    /// The mix study's order of each seed's real set: its num_real records are a prefix of this
    /// permutation, so every prefix is a uniformly random subset (the toy datasets are generated in order, moon by moon).
    /// </summary>
    public const uint MixRealOrder = 13;

    /// <summary>The regression family's fixed design X (n rows per seed), drawn once and reused by every generation.</summary>
    public const uint Design = 14;

    /// <summary>
    /// The Wishart method draws a generation's statistics instead of its points: real data and
    /// synthetic data each get their own pair of streams (normals, chi-squares).
    /// </summary>
    public static uint WishartNormals(uint purpose) => 16 + 2 * purpose;

    public static uint WishartChiSquare(uint purpose) => 17 + 2 * purpose;
}
