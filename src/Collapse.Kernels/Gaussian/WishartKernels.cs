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
    /// The GPU variant of <see cref="Draw"/>: one group per replicate (d ≤ <see cref="FactorKernels.MaxGroupedDim"/>).
    /// The group draws the Bartlett factor once into shared memory (its diagonal χ² per column, its normals below
    /// the diagonal, each a pure function of its index as in the sequential kernel), then every (c, j) element of
    /// the generation's factor and every coordinate of its mean is one thread's sum over k in the sequential
    /// kernel's order, so both kernels give the same bits.
    /// </summary>
    public static void DrawGrouped(WishartDraw draw, ArrayView<double> mean, ArrayView<double> factorT, ArrayView<int> rank,
        ArrayView<double> generationMean, ArrayView<double> generationFactorT, ArrayView<int> generationRank, ArrayView<double> logDetIncrement)
    {
        // A packed lower triangle: A[k, c] for c ≤ k at k(k + 1)/2 + c, the diagonal holding √χ².
        var a = SharedMemory.Allocate<double>(FactorKernels.MaxGroupedDim * (FactorKernels.MaxGroupedDim + 1) / 2);
        var logs = SharedMemory.Allocate<double>(FactorKernels.MaxGroupedDim);
        var (n, d, ld) = (draw.N, draw.Dim, draw.Stride);
        var r = Grid.IdxX;
        var (lane, size) = (Group.IdxX, Group.DimX);
        var normals = draw.NormalStream.ForReplicate((uint)(draw.FirstReplicate + r));
        var chi = draw.ChiSquareStream.ForReplicate((uint)(draw.FirstReplicate + r));
        var f = factorT.SubView((long)r * d * ld, (long)d * ld);
        var g = generationFactorT.SubView((long)r * d * ld, (long)d * ld);
        var rk = rank[r];
        var rankOut = rk < n - 1 ? rk : n - 1;
        var invSqrtN = 1.0 / Math.Sqrt(n);
        for (var e = lane; e < rk * rk; e += size)
        {
            var (k, c) = (e / rk, e % rk);
            if (c > k || c >= rankOut) continue;
            if (c == k)
            {
                var chiSquare = ChiSquare(chi, c, n - 1 - c);
                a[k * (k + 1) / 2 + c] = Math.Sqrt(chiSquare);
                logs[c] = KernelMath.Log(chiSquare / n);
            }
            else a[k * (k + 1) / 2 + c] = Philox.Normal(normals, (ulong)(d + (long)k * d + c));
        }
        Group.Barrier();
        for (var j = lane; j < d; j += size)
        {
            var value = mean[(long)r * d + j];
            for (var k = 0; k < rk; k++) value += Philox.Normal(normals, (ulong)k) * invSqrtN * f[(long)k * ld + j];
            generationMean[(long)r * d + j] = value;
        }
        for (var e = lane; e < d * ld; e += size)
        {
            var (c, j) = (e / ld, e % ld);
            var value = 0.0;
            if (c < rankOut && j < d)
            {
                value = a[c * (c + 1) / 2 + c] * f[(long)c * ld + j];
                for (var k = c + 1; k < rk; k++) value += a[k * (k + 1) / 2 + c] * f[(long)k * ld + j];
                value *= invSqrtN;
            }
            g[e] = value;
        }
        if (lane == 0)
        {
            var increment = 0.0;
            for (var c = 0; c < rankOut; c++) increment += logs[c];
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
