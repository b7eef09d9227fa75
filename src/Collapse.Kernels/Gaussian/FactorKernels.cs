using Collapse.Kernels.Accelerators;
using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>
/// Pivoted Cholesky of each replicate's covariance Σ = M2 / m, robust to singular Σ.
/// The rank is capped at min(d, m − 1), the rank a covariance of m points can have, and the
/// factorization also stops at the first pivot below d·ε·max diag (LAPACK dpstrf's rule): no
/// jitter is added, so sampling stays in the fitted subspace and a singular Σ reports log det = −∞.
/// </summary>
static class FactorKernels
{
    /// <summary>
    /// One thread per replicate (each factorization is sequential, O(d³)). <paramref name="work"/>
    /// holds [replicate][d][d] doubles and <paramref name="perm"/> [replicate][d] ints.
    /// Writes FT (rows k ≥ rank zero), the rank and log det Σ (−∞ when rank &lt; d).
    /// </summary>
    public static void PivotedCholesky(Index1D thread, ArrayView<double> m2, double inverseCount, int maxRank,
        int replicates, int d, int ld, ArrayView<double> work, ArrayView<int> perm,
        ArrayView<double> factorT, ArrayView<int> rank, ArrayView<double> logDet, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
        {
            var a = work.SubView((long)r * d * d, (long)d * d);
            var src = m2.SubView((long)r * d * d, (long)d * d);
            var pi = perm.SubView((long)r * d, d);
            for (long e = 0; e < (long)d * d; e++) a[e] = src[e] * inverseCount;
            var k = Decompose(a, pi, d, maxRank, out var sumLog);

            var f = factorT.SubView((long)r * d * ld, (long)d * ld);
            for (long e = 0; e < (long)d * ld; e++) f[e] = 0.0;
            for (var c = 0; c < k; c++)
                for (var i = c; i < d; i++)
                    f[(long)c * ld + pi[i]] = a[(long)i * d + c];
            rank[r] = k;
            logDet[r] = k == d ? sumLog : double.NegativeInfinity;
        }
    }

    /// <summary>
    /// Pivoted Cholesky of the d×d matrix in <paramref name="a"/>, in place: on return columns c &lt; rank of
    /// its lower triangle hold L in pivot order (A[π, π] = L·Lᵀ) and <paramref name="pi"/> the pivot order.
    /// Stops at <paramref name="maxRank"/> pivots or the first below <see cref="Tolerance"/>; returns the rank,
    /// with Σ log pivot in <paramref name="sumLog"/>. Shared by every factorization kernel.
    /// </summary>
    public static int Decompose(ArrayView<double> a, ArrayView<int> pi, int d, int maxRank, out double sumLog)
    {
        for (var i = 0; i < d; i++) pi[i] = i;
        var tolerance = Tolerance(a, d);
        var k = 0;
        sumLog = 0.0;
        for (; k < maxRank; k++)
        {
            var p = k;
            for (var i = k + 1; i < d; i++)
                if (a[(long)i * d + i] > a[(long)p * d + p]) p = i;
            var pivot = a[(long)p * d + p];
            if (!(pivot > tolerance)) break;
            if (p != k)
            {
                for (var j = 0; j < d; j++) Swap(a, (long)k * d + j, (long)p * d + j);
                for (var i = 0; i < d; i++) Swap(a, (long)i * d + k, (long)i * d + p);
                var t = pi[k]; pi[k] = pi[p]; pi[p] = t;
            }
            var lkk = Math.Sqrt(pivot);
            sumLog += KernelMath.Log(pivot);
            a[(long)k * d + k] = lkk;
            for (var i = k + 1; i < d; i++) a[(long)i * d + k] /= lkk;
            for (var i = k + 1; i < d; i++)
            {
                var li = a[(long)i * d + k];
                for (var j = k + 1; j < d; j++) a[(long)i * d + j] -= li * a[(long)j * d + k];
            }
        }
        return k;
    }

    /// <summary>
    /// LAPACK dpstrf's default: a pivot below d·ε·max diag is rounding noise of a direction the
    /// data never spanned (e.g. Accumulate's samples all lie in the real data's subspace).
    /// </summary>
    public static double Tolerance(ArrayView<double> a, int d)
    {
        var max = 0.0;
        for (var i = 0; i < d; i++) max = Math.Max(max, a[(long)i * d + i]);
        return d * 2.220446049250313e-16 * max;
    }

    static void Swap(ArrayView<double> a, long x, long y)
    {
        var t = a[x];
        a[x] = a[y];
        a[y] = t;
    }
}
