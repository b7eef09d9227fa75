using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Random;
using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>
/// The exact sampling distribution of a fit, without drawing its n points: for n points from
/// N(μ, F·Fᵀ) the sample mean is μ + F·z/√n, z ~ N(0, I), and n·Σ̂ = F·A·Aᵀ·Fᵀ with A the Bartlett
/// factor of Wishart(n − 1, I) (A_cc² ~ χ²(n−1−c), A_kc ~ N(0,1) below the diagonal; only n − 1
/// columns when n − 1 &lt; rank, the singular Wishart). So the generation's factor is G = F·A/√n,
/// and log det Σ̂ = log det Σ + Σ_c log(A_cc²/n) exactly, with no refactorization.
/// </summary>
static class WishartKernels
{
    /// <summary>
    /// One thread per replicate. Normals: index k is the mean's z_k, index d + k·d + c is A[k, c];
    /// the chi-square stream serves the diagonal.
    /// </summary>
    public static void Draw(Index1D thread, WishartDraw draw, ArrayView<double> mean, ArrayView<double> factorT, ArrayView<int> rank,
        ArrayView<double> generationMean, ArrayView<double> generationFactorT, ArrayView<int> generationRank,
        ArrayView<double> logDetIncrement, int stride)
    {
        var (normalStream, chiSquareStream, firstReplicate) = (draw.NormalStream, draw.ChiSquareStream, draw.FirstReplicate);
        var (replicates, n, d, ld) = (draw.Replicates, draw.N, draw.Dim, draw.Stride);
        var invSqrtN = 1.0 / Math.Sqrt(n);
        for (var r = thread.X; r < replicates; r += stride)
        {
            var normals = normalStream.ForReplicate((uint)(firstReplicate + r));
            var chi = chiSquareStream.ForReplicate((uint)(firstReplicate + r));
            var f = factorT.SubView((long)r * d * ld, (long)d * ld);
            var g = generationFactorT.SubView((long)r * d * ld, (long)d * ld);
            var rk = rank[r];
            var rankOut = rk < n - 1 ? rk : n - 1;

            for (var j = 0; j < d; j++) generationMean[(long)r * d + j] = mean[(long)r * d + j];
            for (var k = 0; k < rk; k++)
            {
                var z = Philox.Normal(normals, (ulong)k) * invSqrtN;
                for (var j = 0; j < d; j++) generationMean[(long)r * d + j] += z * f[(long)k * ld + j];
            }

            for (long e = 0; e < (long)d * ld; e++) g[e] = 0.0;
            var increment = 0.0;
            for (var c = 0; c < rankOut; c++)
            {
                var chiSquare = ChiSquare(chi, c, n - 1 - c);
                var diagonal = Math.Sqrt(chiSquare);
                increment += KernelMath.Log(chiSquare / n);
                for (var j = 0; j < d; j++) g[(long)c * ld + j] = diagonal * f[(long)c * ld + j];
                for (var k = c + 1; k < rk; k++)
                {
                    double a = Philox.Normal(normals, (ulong)(d + (long)k * d + c));
                    for (var j = 0; j < d; j++) g[(long)c * ld + j] += a * f[(long)k * ld + j];
                }
                for (var j = 0; j < d; j++) g[(long)c * ld + j] *= invSqrtN;
            }
            generationRank[r] = rankOut;
            logDetIncrement[r] = increment;
        }
    }

    /// <summary>
    /// χ²(ν) for integer ν ≥ 1: z² when ν = 1, else 2·Gamma(ν/2) by Marsaglia and Tsang's method.
    /// Attempt i of column c uses block c·1024 + i of the stream, so the draw is a pure function
    /// of (stream, c) however many attempts it takes.
    /// </summary>
    public static double ChiSquare(RandomStream stream, int column, int degrees)
    {
        var first = (ulong)column * 1024;
        if (degrees == 1)
        {
            var b = stream.Block(first);
            Philox.BoxMuller(b.X, b.Y, out var z, out _);
            return (double)z * z;
        }
        var shape = degrees * 0.5;
        var dd = shape - 1.0 / 3.0;
        var cc = 1.0 / Math.Sqrt(9.0 * dd);
        for (ulong attempt = 0; attempt < 1024; attempt++)
        {
            var b = stream.Block(first + attempt);
            Philox.BoxMuller(b.X, b.Y, out var x, out _);
            var v = 1.0 + cc * x;
            if (v <= 0.0) continue;
            v = v * v * v;
            var u = Philox.UniformDouble(b.Z, b.W);
            if (u <= 0.0) continue;
            if (KernelMath.Log(u) < 0.5 * x * x + dd - dd * v + dd * KernelMath.Log(v)) return 2.0 * dd * v;
        }
        return degrees; // Unreachable in practice: each attempt is accepted with probability > 0.95.
    }
}

/// <summary>The scalar arguments of a Wishart draw (a struct: ILGPU kernels take at most 15 arguments).</summary>
public struct WishartDraw
{
    public RandomStream NormalStream, ChiSquareStream;
    public int FirstReplicate, Replicates, N, Dim, Stride;
}
