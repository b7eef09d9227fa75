using Collapse.Kernels.Gaussian;

namespace Collapse.Kernels.Regression;

/// <summary>
/// Layout of a batch of least-squares problems, one per replicate, each with a fixed design of
/// <see cref="N"/> rows in d dimensions. Designs are [replicate][row][Stride] and weight vectors
/// [replicate][Stride] (Stride = d rounded up to 8 doubles, padding zero, as for Gaussian points);
/// labels [replicate][row]; Gram matrices and their factors [replicate][d][d].
/// </summary>
public readonly record struct RegressionShape(int Replicates, int Dim, int N)
{
    public int Stride => GaussianShape.StrideOf(Dim);
    public long DesignLength => (long)Replicates * N * Stride;
    public long VectorLength => (long)Replicates * Stride;
    public long LabelsLength => (long)Replicates * N;
    public long MatrixLength => (long)Replicates * Dim * Dim;

    /// <summary>Doubles per replicate of <see cref="RegressionKernels.Solve"/>'s scratch: a rank × rank matrix and two vectors.</summary>
    public long SolveScratchPerReplicate => (long)Dim * Dim + 2L * Dim;
}
