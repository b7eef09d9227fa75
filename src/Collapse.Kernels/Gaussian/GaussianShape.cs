namespace Collapse.Kernels.Gaussian;

/// <summary>
/// Layout of a batch of d-dimensional Gaussians, one per replicate. Points are stored
/// [replicate][point][Stride] with Stride = d rounded up to 4 doubles (one 256-bit vector),
/// padding zero. Means are [replicate][d]; moment matrices [replicate][d][d];
/// factors are stored transposed, [replicate][d][Stride]: row k is column k of F, Σ = F·Fᵀ.
/// </summary>
public readonly record struct GaussianShape(int Replicates, int Dim)
{
    public int Stride => (Dim + 3) & ~3;
    public long MeanLength => (long)Replicates * Dim;
    public long MatrixLength => (long)Replicates * Dim * Dim;
    public long FactorLength => (long)Replicates * Dim * Stride;
    public long PointsLength(int points) => (long)Replicates * points * Stride;
}
