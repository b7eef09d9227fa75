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

    /// <summary>
    /// The Wishart method draws a generation's statistics instead of its points: real data and
    /// synthetic data each get their own pair of streams (normals, chi-squares).
    /// </summary>
    public static uint WishartNormals(uint purpose) => 16 + 2 * purpose;

    public static uint WishartChiSquare(uint purpose) => 17 + 2 * purpose;
}
