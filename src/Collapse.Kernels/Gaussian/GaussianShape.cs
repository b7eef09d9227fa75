using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>
/// Layout of a batch of d-dimensional Gaussians, one per replicate. Points are stored
/// [replicate][point][Stride] with Stride = d rounded up to 8 doubles (the CPU kernels' 8-wide
/// register tiles), padding zero. Means are [replicate][d]; moment matrices [replicate][d][d];
/// factors are stored transposed, [replicate][d][Stride]: row k is column k of F, Σ = F·Fᵀ.
/// </summary>
public readonly record struct GaussianShape(int Replicates, int Dim)
{
    /// <summary>The point stride for dimension <paramref name="dim"/>: d rounded up to 8 doubles. The one definition; everything that lays out or sizes points uses it.</summary>
    public static int StrideOf(int dim) => (dim + 7) & ~7;

    public int Stride => StrideOf(Dim);
    public long MeanLength => (long)Replicates * Dim;
    public long MatrixLength => (long)Replicates * Dim * Dim;
    public long FactorLength => (long)Replicates * Dim * Stride;
    public long PointsLength(int points) => (long)Replicates * points * Stride;
}

/// <summary>
/// The device buffers that describe a batch of fitted Gaussians: mean, factor (Σ = F·Fᵀ, stored
/// transposed in original coordinates), rank and log det; plus the factor in pivot order and
/// the pivot permutation, which the CPU path samples from (its triangular form halves the work).
/// </summary>
public readonly struct GaussianModelViews
{
    public ArrayView<double> Mean { get; init; }
    public ArrayView<double> FactorT { get; init; }
    public ArrayView<int> Rank { get; init; }
    public ArrayView<double> LogDet { get; init; }
    public ArrayView<double> PivotLowerT { get; init; }
    public ArrayView<int> Permutation { get; init; }
}
