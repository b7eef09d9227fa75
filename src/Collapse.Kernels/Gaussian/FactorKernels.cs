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

    /// <summary>The largest d the grouped kernel serves: its packed lower triangle, d(d + 1)/2 doubles, fits in 48 KB of shared memory.</summary>
    public const int MaxGroupedDim = 100;

    const int MaxPacked = MaxGroupedDim * (MaxGroupedDim + 1) / 2;

    /// <summary>Element (i, j), j ≤ i, of a packed lower triangle.</summary>
    static int Packed(int i, int j) => i * (i + 1) / 2 + j;

    /// <summary>
    /// The GPU variant of <see cref="PivotedCholesky"/>: one group per replicate (launch replicates groups of
    /// any size), the matrix as a packed lower triangle in shared memory (d ≤ <see cref="MaxGroupedDim"/>),
    /// the symmetric pivot swap, the column scaling and the rank-1 trailing update spread over the group's
    /// threads, the pivot search on its first thread (O(d) a step, in the sequential kernel's order so ties
    /// go the same way). The same rules: rank capped at <paramref name="maxRank"/>, stop at the first pivot
    /// below d·ε·max diag, no jitter. Each element sees the same operations in the same order as in the
    /// sequential kernel. Writes FT (rows ≥ rank zero), rank, log det (−∞ when rank &lt; d) and the pivot order.
    /// With <paramref name="capPerReplicate"/> ≠ 0 replicate r's rank is also capped at maxRanks[r] (the regression's
    /// distinct rows); with <paramref name="writeLower"/> ≠ 0 L in pivot order goes to lower [r][d][d] as well
    /// (columns &lt; rank of its lower triangle), as <see cref="Decompose"/> leaves it for the minimum-norm solve.
    /// </summary>
    public static void PivotedCholeskyGrouped(ArrayView<double> m2, double inverseCount, int maxRank, int d, int ld,
        ArrayView<int> perm, ArrayView<double> factorT, ArrayView<int> rank, ArrayView<double> logDet,
        ArrayView<int> maxRanks, int capPerReplicate, ArrayView<double> lower, int writeLower)
    {
        var a = SharedMemory.Allocate<double>(MaxPacked);
        var pi = SharedMemory.Allocate<int>(MaxGroupedDim);
        var inverse = SharedMemory.Allocate<int>(MaxGroupedDim);
        // [0] the step's pivot, [1] the tolerance, [2] Σ log pivot; chosen[0] the pivot's row.
        var scalars = SharedMemory.Allocate<double>(3);
        var chosen = SharedMemory.Allocate<int>(1);
        var r = Grid.IdxX;
        var (lane, size) = (Group.IdxX, Group.DimX);
        if (capPerReplicate != 0 && maxRanks[r] < maxRank) maxRank = maxRanks[r];
        var source = m2.SubView((long)r * d * d, (long)d * d);
        for (var e = lane; e < d * d; e += size)
        {
            var (i, j) = (e / d, e % d);
            if (j <= i) a[Packed(i, j)] = source[e] * inverseCount;
        }
        for (var i = lane; i < d; i += size) pi[i] = i;
        Group.Barrier();
        if (lane == 0)
        {
            var max = 0.0;
            for (var i = 0; i < d; i++) max = Math.Max(max, a[Packed(i, i)]);
            scalars[1] = d * 2.220446049250313e-16 * max;
            scalars[2] = 0.0;
        }
        Group.Barrier();

        var k = 0;
        for (; k < maxRank; k++)
        {
            if (lane == 0)
            {
                var best = k;
                for (var i = k + 1; i < d; i++)
                    if (a[Packed(i, i)] > a[Packed(best, best)]) best = i;
                chosen[0] = best;
                scalars[0] = a[Packed(best, best)];
            }
            Group.Barrier();
            var p = chosen[0];
            var pivot = scalars[0];
            // Every thread read the same shared values: the group leaves the loop together.
            if (!(pivot > scalars[1])) break;
            if (p != k)
            {
                // The symmetric swap of rows and columns k and p, on the lower triangle alone (LAPACK dpstrf's).
                for (var q = lane; q < d; q += size)
                {
                    int x, y;
                    if (q < k) (x, y) = (Packed(k, q), Packed(p, q));
                    else if (q == k) (x, y) = (Packed(k, k), Packed(p, p));
                    else if (q < p) (x, y) = (Packed(q, k), Packed(p, q));
                    else if (q > p) (x, y) = (Packed(q, k), Packed(q, p));
                    else continue; // (p, k) maps to itself
                    var t = a[x];
                    a[x] = a[y];
                    a[y] = t;
                }
                if (lane == 0)
                {
                    var t = pi[k];
                    pi[k] = pi[p];
                    pi[p] = t;
                }
                Group.Barrier();
            }
            var lkk = Math.Sqrt(pivot);
            for (var i = k + 1 + lane; i < d; i += size) a[Packed(i, k)] /= lkk;
            if (lane == 0)
            {
                a[Packed(k, k)] = lkk;
                scalars[2] += KernelMath.Log(pivot);
            }
            Group.Barrier();
            var m = d - k - 1;
            for (var t = lane; t < m * m; t += size)
            {
                var (i, j) = (k + 1 + t / m, k + 1 + t % m);
                if (j <= i) a[Packed(i, j)] -= a[Packed(i, k)] * a[Packed(j, k)];
            }
            Group.Barrier();
        }

        for (var i = lane; i < d; i += size)
        {
            inverse[pi[i]] = i;
            perm[(long)r * d + i] = pi[i];
        }
        Group.Barrier();
        // FT[c, pi[i]] = L[i, c] for i ≥ c, c < rank; everything else zero (padding included).
        var f = factorT.SubView((long)r * d * ld, (long)d * ld);
        for (var e = lane; e < d * ld; e += size)
        {
            var (c, column) = (e / ld, e % ld);
            var value = 0.0;
            if (c < k && column < d)
            {
                var i = inverse[column];
                if (i >= c) value = a[Packed(i, c)];
            }
            f[e] = value;
        }
        if (writeLower != 0)
            for (var e = lane; e < d * d; e += size)
            {
                var (i, c) = (e / d, e % d);
                if (c < k && c <= i) lower[(long)r * d * d + e] = a[Packed(i, c)];
            }
        if (lane == 0)
        {
            rank[r] = k;
            logDet[r] = k == d ? scalars[2] : double.NegativeInfinity;
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
