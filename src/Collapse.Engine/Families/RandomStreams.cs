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
    public const uint WishartNormals = 4;
    public const uint WishartChiSquare = 5;
}
