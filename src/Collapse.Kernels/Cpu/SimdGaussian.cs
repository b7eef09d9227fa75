using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The Gaussian hot loops for the CPU path in SIMD C#, one replicate per call: the sampling
/// transform and the scatter matrix are GEMM-shaped (n·d² multiply-adds), where ILGPU's CPU
/// accelerator runs at about 1 GFLOP/s. Register-blocked 8 rows × 8 columns in AVX2 (16
/// accumulators, 10 loads per 16 FMAs), 8 rows × 16 columns where AVX-512 is present (this file's
/// partner, <c>SimdGaussian.Avx512.cs</c>); rows have <c>ld</c> (a multiple of 8) doubles with
/// zero padding, so no column tail is needed. Every output element is summed in the same order
/// with the same FMAs at either width, so both give the same bits.
/// </summary>
public static unsafe partial class SimdGaussian
{
    /// <summary>Whether the transform and scatter run 512 bits wide (AVX-512F); the AVX2 path is kept for CPUs without it.</summary>
    public static bool Is512Supported => SimdNormals.Is512Supported;

    /// <summary>
    /// x[p, π(j)] = μ[π(j)] + Σ_{k ≤ min(j, rank−1)} z[p·d + k] · L[j, k] for p &lt; m, where L is the
    /// pivoted Cholesky factor in pivot order (given transposed, <paramref name="lowerT"/>[k, j] = L[j, k])
    /// and π the pivot permutation. Working in pivot order keeps L triangular, which halves the
    /// multiply-adds of a dense Σ = F·Fᵀ transform; the permutation is applied on store.
    /// Columns past d are left untouched (zero padding).
    /// </summary>
    public static void Transform(double* mean, double* lowerT, int* perm, int rank, double* z, int m, int d, int ld, double* x) =>
        Transform(mean, lowerT, perm, rank, z, d, m, d, ld, x, WideTransform(ld));

    /// <summary>
    /// Whether the transform runs 512 bits wide at this stride: only from ld = 64 up, because on a
    /// Zen 4 (whose 512-bit FMAs are two 256-bit halves) the 16-column tiles' extra triangle made
    /// the AVX-512 transform 0.85–0.95× the AVX2 one at ld ≤ 32, and 1.04× at ld = 104.
    /// </summary>
    internal static bool WideTransform(int ld) => Is512Supported && ld >= 64;

    /// <summary>
    /// <see cref="Transform(double*, double*, int*, int, double*, int, int, int, double*)"/> with the
    /// normals' rows <paramref name="zStride"/> doubles apart, at a chosen width (tests run both).
    /// </summary>
    internal static void Transform(double* mean, double* lowerT, int* perm, int rank, double* z, int zStride, int m, int d, int ld, double* x, bool wide)
    {
        if (wide)
        {
            Transform512(mean, lowerT, perm, rank, z, zStride, m, d, ld, x);
            return;
        }
        var tile = stackalloc double[64];
        var rowPointers = stackalloc double*[8];
        for (var p = 0; p < m; p += 8)
        {
            var rows = Math.Min(8, m - p);
            // Rows past m repeat the first row; their results are discarded.
            for (var row = 0; row < 8; row++) rowPointers[row] = z + (long)(p + (row < rows ? row : 0)) * zStride;
            for (var j = 0; j < ld; j += 8)
            {
                var depth = Math.Min(j + 8, rank);
                // The eight rows in two passes of four, as in Syrk: eight accumulators fit AVX2's sixteen registers
                // (sixteen spilled without AVX-512's extra registers); every sum runs over k in order, so the bits are the same.
                for (var half = 0; half < 8; half += 4)
                {
                    double* y0 = rowPointers[half], y1 = rowPointers[half + 1], y2 = rowPointers[half + 2], y3 = rowPointers[half + 3];
                    Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                        a30 = default, a31 = default;
                    var f = lowerT + j;
                    for (var k = 0; k < depth; k++, f += ld)
                    {
                        var f0 = Vector256.Load(f);
                        var f1 = Vector256.Load(f + 4);
                        var b = Vector256.Create(y0[k]);
                        a00 = Vector256.FusedMultiplyAdd(b, f0, a00); a01 = Vector256.FusedMultiplyAdd(b, f1, a01);
                        b = Vector256.Create(y1[k]);
                        a10 = Vector256.FusedMultiplyAdd(b, f0, a10); a11 = Vector256.FusedMultiplyAdd(b, f1, a11);
                        b = Vector256.Create(y2[k]);
                        a20 = Vector256.FusedMultiplyAdd(b, f0, a20); a21 = Vector256.FusedMultiplyAdd(b, f1, a21);
                        b = Vector256.Create(y3[k]);
                        a30 = Vector256.FusedMultiplyAdd(b, f0, a30); a31 = Vector256.FusedMultiplyAdd(b, f1, a31);
                    }
                    var h = tile + 8 * half;
                    a00.Store(h); a01.Store(h + 4); a10.Store(h + 8); a11.Store(h + 12);
                    a20.Store(h + 16); a21.Store(h + 20); a30.Store(h + 24); a31.Store(h + 28);
                }
                var columns = Math.Min(8, d - j);
                for (var row = 0; row < rows; row++)
                {
                    var xp = x + (long)(p + row) * ld;
                    for (var e = 0; e < columns; e++)
                    {
                        var target = perm[j + e];
                        xp[target] = mean[target] + tile[row * 8 + e];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The mean and scatter <see cref="Moments(double*, int, int, int, double*, double*)"/> would give
    /// for the points <see cref="Transform(double*, double*, int*, int, double*, int, int, int, double*)"/>
    /// would make from these normals, without making them: x = μ + P·L·z (P the pivot permutation,
    /// L the d × rank factor in pivot order), so x̄ = μ + P·L·z̄ and M2ₓ = P·(L·M2_z·Lᵀ)·Pᵀ, which
    /// costs the normals' scatter plus about ⅔·d³ multiply-adds instead of the m·d²/2 of the
    /// transform (worth it once m exceeds about 2·d). Equal to the materialized moments up to
    /// rounding, not bit for bit. <paramref name="z"/>: m rows of ld doubles, d normals each then
    /// zero padding (only the first rank are used, as the transform does). <paramref name="meanOut"/> may be
    /// <paramref name="mean"/> (each entry is read once, then written).
    /// </summary>
    public static void MomentsOfTransform(double* mean, double* lowerT, int* perm, int rank, double* z, int m, int d, int ld,
        double* meanOut, double* m2Out) => MomentsOfTransform(mean, lowerT, perm, rank, z, m, d, ld, meanOut, m2Out, Is512Supported);

    /// <summary><see cref="MomentsOfTransform(double*, double*, int*, int, double*, int, int, int, double*, double*)"/> at a chosen width.</summary>
    internal static void MomentsOfTransform(double* mean, double* lowerT, int* perm, int rank, double* z, int m, int d, int ld,
        double* meanOut, double* m2Out, bool wide)
    {
        var work = ThreadScratch.Doubles(ThreadScratch.NormalMoments, 2L * d * d + 2L * d * ld + 2L * ld);
        double* m2z = work, v = m2z + (long)d * d, vT = v + (long)d * ld, s = vT + (long)d * d, zMean = s + (long)d * ld, zero = zMean + ld;
        var identity = ThreadScratch.Ints(ThreadScratch.Permutation, d);
        for (var j = 0; j < d; j++) identity[j] = j;
        new Span<double>(zero, ld).Clear();
        Moments(z, m, d, ld, zMean, m2z, wide);
        // Both products are transforms (rows times Lᵀ), so they run in the register-blocked kernel:
        // V = M2_z·Lᵀ (its first rank rows are all the second product reads), then the rows of
        // Vᵀ·Lᵀ = (L·M2_z·Lᵀ)ᵀ, which is the symmetric product itself, with columns permuted on store.
        Transform(zero, lowerT, identity, rank, m2z, d, rank, d, ld, v, WideTransform(ld));
        for (var j = 0; j < d; j++)
            for (var l = 0; l < rank; l++) vT[(long)j * d + l] = v[(long)l * ld + j];
        Transform(zero, lowerT, perm, rank, vT, d, d, d, ld, s, WideTransform(ld));
        // s[a, π(b)] = (L·M2_z·Lᵀ)[a, b]; the lower triangle is kept and mirrored, so M2ₓ is exactly symmetric.
        for (var a = 0; a < d; a++)
            for (var b = 0; b <= a; b++)
            {
                var value = s[(long)a * ld + perm[b]];
                m2Out[(long)perm[a] * d + perm[b]] = value;
                m2Out[(long)perm[b] * d + perm[a]] = value;
            }
        // x̄[π(a)] = μ[π(a)] + Σ_k L[a, k]·z̄_k.
        for (var a = 0; a < d; a++)
        {
            var shift = 0.0;
            for (var k = 0; k < Math.Min(a + 1, rank); k++) shift = Math.FusedMultiplyAdd(lowerT[(long)k * ld + a], zMean[k], shift);
            meanOut[perm[a]] = mean[perm[a]] + shift;
        }
    }

    /// <summary>
    /// Mean (d entries) and scatter matrix M2 = Σ (x − x̄)(x − x̄)ᵀ (d×d, full) of m points,
    /// centred first (chunk by chunk, inside <see cref="Syrk"/>) so a far-away mean costs no precision.
    /// </summary>
    public static void Moments(double* x, int m, int d, int ld, double* mean, double* m2) => Moments(x, m, d, ld, mean, m2, Is512Supported);

    /// <summary><see cref="Moments(double*, int, int, int, double*, double*)"/> at a chosen width (tests run both).</summary>
    internal static void Moments(double* x, int m, int d, int ld, double* mean, double* m2, bool wide)
    {
        // One pass over the rows (a pass per column block re-read them from L2 ld/4 times); each
        // column is still summed in point order, so the bits are those of a column-by-column sum.
        var sums = stackalloc double[ld];
        new Span<double>(sums, ld).Clear();
        for (var p = 0; p < m; p++)
        {
            var row = x + (long)p * ld;
            for (var j = 0; j < ld; j += 4) (Vector256.Load(sums + j) + Vector256.Load(row + j)).Store(sums + j);
        }
        var count = Vector256.Create((double)m);
        for (var j = 0; j < ld; j += 4) (Vector256.Load(sums + j) / count).Store(sums + j);
        for (var j = 0; j < d; j++) mean[j] = sums[j];
        Syrk(x, m, d, ld, 1.0, m2, sums, wide);
    }

    /// <summary>
    /// M2 = scale · Σ_{p &lt; m} (row_p − c)(row_p − c)ᵀ (d×d, full) for rows of <paramref name="ld"/>
    /// doubles, c = <paramref name="centre"/> (ld entries) or zero: upper-triangle tiles of 8 × 8,
    /// mirrored on store.
    /// </summary>
    public static void Syrk(double* rows, int m, int d, int ld, double scale, double* m2, double* centre = null) =>
        Syrk(rows, m, d, ld, scale, m2, centre, Is512Supported);

    /// <summary><see cref="Syrk(double*, int, int, int, double, double*, double*)"/> at a chosen width (tests run both).</summary>
    internal static void Syrk(double* rows, int m, int d, int ld, double scale, double* m2, double* centre, bool wide)
    {
        if (wide)
        {
            Syrk512(rows, m, d, ld, scale, m2, centre);
            return;
        }
        // Points in chunks small enough to stay in L2 while every tile passes over them; tile sums
        // are carried in a packed buffer between chunks.
        const int chunk = 96;
        var tiles = 0;
        for (var i = 0; i < d; i += 8)
            for (var j = i; j < ld; j += 8) tiles++;
        var packed = ThreadScratch.Doubles(ThreadScratch.TileSums, tiles * 64);
        new Span<double>(packed, tiles * 64).Clear();
        var centred = centre is null ? null : ThreadScratch.Doubles(ThreadScratch.Centred, (long)chunk * ld);
        for (var p0 = 0; p0 < m; p0 += chunk)
        {
            var p1 = Math.Min(m, p0 + chunk);
            var source = rows + (long)p0 * ld;
            if (centred is not null)
            {
                for (var p = 0; p < p1 - p0; p++)
                    for (var j = 0; j < ld; j += 4)
                        (Vector256.Load(source + (long)p * ld + j) - Vector256.Load(centre + j)).Store(centred + (long)p * ld + j);
                source = centred;
            }
            var t = packed;
            for (var i = 0; i < d; i += 8)
            {
                for (var j = i; j < ld; j += 8, t += 64)
                {
                    // The tile's eight rows in two passes of four: eight accumulators and three operands fit AVX2's sixteen
                    // registers (sixteen accumulators spilled on CPUs without AVX-512's extra registers). Each sum still
                    // runs over the points in order, so the bits are the same.
                    for (var half = 0; half < 8; half += 4)
                    {
                        var h = t + 8 * half;
                        Vector256<double> a00 = Vector256.Load(h), a01 = Vector256.Load(h + 4), a10 = Vector256.Load(h + 8), a11 = Vector256.Load(h + 12),
                            a20 = Vector256.Load(h + 16), a21 = Vector256.Load(h + 20), a30 = Vector256.Load(h + 24), a31 = Vector256.Load(h + 28);
                        var row = source;
                        var r = i + half;
                        for (var p = p0; p < p1; p++, row += ld)
                        {
                            var c0 = Vector256.Load(row + j);
                            var c1 = Vector256.Load(row + j + 4);
                            var b = Vector256.Create(row[r]);
                            a00 = Vector256.FusedMultiplyAdd(b, c0, a00); a01 = Vector256.FusedMultiplyAdd(b, c1, a01);
                            b = Vector256.Create(row[r + 1]);
                            a10 = Vector256.FusedMultiplyAdd(b, c0, a10); a11 = Vector256.FusedMultiplyAdd(b, c1, a11);
                            b = Vector256.Create(row[r + 2]);
                            a20 = Vector256.FusedMultiplyAdd(b, c0, a20); a21 = Vector256.FusedMultiplyAdd(b, c1, a21);
                            b = Vector256.Create(row[r + 3]);
                            a30 = Vector256.FusedMultiplyAdd(b, c0, a30); a31 = Vector256.FusedMultiplyAdd(b, c1, a31);
                        }
                        a00.Store(h); a01.Store(h + 4); a10.Store(h + 8); a11.Store(h + 12);
                        a20.Store(h + 16); a21.Store(h + 20); a30.Store(h + 24); a31.Store(h + 28);
                    }
                }
            }
        }
        var s = Vector256.Create(scale);
        var tile = packed;
        for (var i = 0; i < d; i += 8)
            for (var j = i; j < ld; j += 8, tile += 64)
                for (var row = 0; row < 8; row++)
                    StoreMirrored(m2, d, i + row, j, Vector256.Load(tile + 8 * row) * s, Vector256.Load(tile + 8 * row + 4) * s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreMirrored(double* m2, int d, int i, int j, Vector256<double> low, Vector256<double> high)
    {
        if (i >= d) return;
        for (var e = 0; e < 8; e++)
        {
            var col = j + e;
            if (col < i || col >= d) continue;
            var v = e < 4 ? low.GetElement(e) : high.GetElement(e - 4);
            m2[(long)i * d + col] = v;
            m2[(long)col * d + i] = v;
        }
    }

    /// <summary>
    /// Pivoted Cholesky of Σ = M2·inverseCount (same algorithm and stopping rules as the ILGPU
    /// kernel <c>FactorKernels.PivotedCholesky</c>), with the trailing update vectorized.
    /// <paramref name="work"/> holds d·d doubles, <paramref name="perm"/> d ints, <paramref name="column"/> 2·d doubles.
    /// Returns the rank; writes FT (d×ld, rows ≥ rank zero), the factor in pivot order transposed
    /// (<paramref name="lowerT"/>[k, j] = L[j, k], for <see cref="Transform"/>), the permutation
    /// and log det (−∞ when rank &lt; d).
    /// </summary>
    public static int PivotedCholesky(double* m2, double inverseCount, int maxRank, int d, int ld,
        double* work, int* perm, double* column, double* factorT, double* lowerT, out double logDet) =>
        PivotedCholesky(m2, inverseCount, maxRank, d, ld, work, perm, column, factorT, lowerT, out logDet, Is512Supported);

    /// <summary><see cref="PivotedCholesky(double*, double, int, int, int, double*, int*, double*, double*, double*, out double)"/> at a chosen width (tests run both).</summary>
    internal static int PivotedCholesky(double* m2, double inverseCount, int maxRank, int d, int ld,
        double* work, int* perm, double* column, double* factorT, double* lowerT, out double logDet, bool wide)
    {
        var a = work;
        for (long e = 0; e < (long)d * d; e++) a[e] = m2[e] * inverseCount;
        for (var i = 0; i < d; i++) perm[i] = i;
        var max = 0.0;
        for (var i = 0; i < d; i++) max = Math.Max(max, a[(long)i * d + i]);
        var tolerance = d * 2.220446049250313e-16 * max;
        // Pivots are taken two at a time: the second pivot's diagonal and column are corrected for
        // the first on the fly, then one rank-2 update sweeps the trailing triangle (half the passes).
        var second = column + d;
        var k = 0;
        var sumLog = 0.0;
        while (k < maxRank)
        {
            var p = k;
            for (var i = k + 1; i < d; i++)
                if (a[(long)i * d + i] > a[(long)p * d + p]) p = i;
            var pivot = a[(long)p * d + p];
            if (!(pivot > tolerance)) break;
            if (p != k) SwapLower(a, d, k, p, perm);
            var lkk = Math.Sqrt(pivot);
            sumLog += Math.Log(pivot);
            a[(long)k * d + k] = lkk;
            for (var i = k + 1; i < d; i++)
            {
                a[(long)i * d + k] /= lkk;
                column[i] = a[(long)i * d + k];
            }
            var k1 = k + 1;
            k = k1;
            // Past the last pivot the trailing matrix is never read again.
            if (k1 >= maxRank) break;

            var q = k1;
            var best = a[(long)k1 * d + k1] - column[k1] * column[k1];
            for (var i = k1 + 1; i < d; i++)
            {
                var diagonal = a[(long)i * d + i] - column[i] * column[i];
                if (diagonal > best) (q, best) = (i, diagonal);
            }
            if (!(best > tolerance)) break;
            if (q != k1)
            {
                SwapLower(a, d, k1, q, perm);
                (column[k1], column[q]) = (column[q], column[k1]);
            }
            var l11 = Math.Sqrt(best);
            sumLog += Math.Log(best);
            a[(long)k1 * d + k1] = l11;
            for (var i = k1 + 1; i < d; i++)
            {
                a[(long)i * d + k1] = (a[(long)i * d + k1] - column[i] * column[k1]) / l11;
                second[i] = a[(long)i * d + k1];
            }
            // Only the lower triangle is kept up to date: half the work of a full update. Eight columns
            // at a time where AVX-512 is present: the same elements get the same FMAs as in the 4-wide
            // loop (an 8-wide step covers two of its steps), so the bits do not depend on the width.
            for (var i = k1 + 1; i < d; i++)
            {
                var c0 = Vector256.Create(-column[i]);
                var c1 = Vector256.Create(-second[i]);
                var row = a + (long)i * d;
                var j = k1 + 1;
                if (wide)
                {
                    var w0 = Vector512.Create(-column[i]);
                    var w1 = Vector512.Create(-second[i]);
                    for (; j + 8 <= i + 1; j += 8)
                        Vector512.FusedMultiplyAdd(w1, Vector512.Load(second + j),
                            Vector512.FusedMultiplyAdd(w0, Vector512.Load(column + j), Vector512.Load(row + j))).Store(row + j);
                }
                for (; j + 4 <= i + 1; j += 4)
                    Vector256.FusedMultiplyAdd(c1, Vector256.Load(second + j),
                        Vector256.FusedMultiplyAdd(c0, Vector256.Load(column + j), Vector256.Load(row + j))).Store(row + j);
                for (; j <= i; j++) row[j] -= column[i] * column[j] + second[i] * second[j];
            }
            k = k1 + 1;
        }
        new Span<double>(factorT, d * ld).Clear();
        new Span<double>(lowerT, d * ld).Clear();
        for (var c = 0; c < k; c++)
            for (var i = c; i < d; i++)
            {
                factorT[(long)c * ld + perm[i]] = a[(long)i * d + c];
                lowerT[(long)c * ld + i] = a[(long)i * d + c];
            }
        logDet = k == d ? sumLog : double.NegativeInfinity;
        return k;
    }

    /// <summary>
    /// Symmetric swap of rows/columns k &lt; p in a matrix whose lower triangle alone is valid
    /// (columns before k hold finished rows of L), as LAPACK's dpstrf does it.
    /// </summary>
    static void SwapLower(double* a, int d, int k, int p, int* perm)
    {
        for (var j = 0; j < k; j++) (a[(long)k * d + j], a[(long)p * d + j]) = (a[(long)p * d + j], a[(long)k * d + j]);
        (a[(long)k * d + k], a[(long)p * d + p]) = (a[(long)p * d + p], a[(long)k * d + k]);
        for (var i = k + 1; i < p; i++) (a[(long)i * d + k], a[(long)p * d + i]) = (a[(long)p * d + i], a[(long)i * d + k]);
        for (var i = p + 1; i < d; i++) (a[(long)i * d + k], a[(long)i * d + p]) = (a[(long)i * d + p], a[(long)i * d + k]);
        (perm[k], perm[p]) = (perm[p], perm[k]);
    }

    /// <summary>Chan's merge for one replicate, as <c>MomentKernels.MergeScatter</c> and <c>MergeMean</c> do it.</summary>
    public static void Merge(double* meanA, double* m2A, double countA, double* meanB, double* m2B, double countB, int d, double* delta)
    {
        var weight = countA * countB / (countA + countB);
        for (var j = 0; j < d; j++) delta[j] = meanB[j] - meanA[j];
        for (var i = 0; i < d; i++)
        {
            var di = delta[i] * weight;
            for (var j = 0; j < d; j++) m2A[(long)i * d + j] += m2B[(long)i * d + j] + di * delta[j];
        }
        var share = countB / (countA + countB);
        for (var j = 0; j < d; j++) meanA[j] += delta[j] * share;
    }

    /// <summary>
    /// One replicate's exact Wishart draw, the same function of the streams as the ILGPU kernel
    /// <c>WishartKernels.Draw</c> (see there), with the normals made by <see cref="SimdNormals"/> and
    /// the triangular product G = F·A/√n vectorized over coordinates. <paramref name="normals"/> is
    /// scratch for d + rank·d floats. Returns the rank of G and writes the log det increment.
    /// </summary>
    public static int WishartDraw(Random.RandomStream normalStream, Random.RandomStream chiSquareStream, int n, int d, int ld,
        double* mean, double* factorT, int rank, double* generationMean, double* generationFactorT, float[] normals,
        out double logDetIncrement)
    {
        var invSqrtN = 1.0 / Math.Sqrt(n);
        var rankOut = Math.Min(rank, n - 1);
        var count = d + rank * d;
        SimdNormals.Fill(normalStream, 0, normals.AsSpan(0, count));

        for (var j = 0; j < d; j++) generationMean[j] = mean[j];
        for (var k = 0; k < rank; k++)
        {
            var z = normals[k] * invSqrtN;
            for (var j = 0; j < d; j++) generationMean[j] += z * factorT[(long)k * ld + j];
        }

        new Span<double>(generationFactorT, d * ld).Clear();
        var increment = 0.0;
        var scale = Vector256.Create(invSqrtN);
        for (var c = 0; c < rankOut; c++)
        {
            var chiSquare = Gaussian.WishartKernels.ChiSquare(chiSquareStream, c, n - 1 - c);
            increment += Math.Log(chiSquare / n);
            var g = generationFactorT + (long)c * ld;
            var diagonal = Vector256.Create(Math.Sqrt(chiSquare));
            for (var j = 0; j < ld; j += 4) (diagonal * Vector256.Load(factorT + (long)c * ld + j)).Store(g + j);
            for (var k = c + 1; k < rank; k++)
            {
                var a = Vector256.Create((double)normals[d + k * d + c]);
                var f = factorT + (long)k * ld;
                for (var j = 0; j < ld; j += 4)
                    Vector256.FusedMultiplyAdd(a, Vector256.Load(f + j), Vector256.Load(g + j)).Store(g + j);
            }
            for (var j = 0; j < ld; j += 4) (Vector256.Load(g + j) * scale).Store(g + j);
        }
        logDetIncrement = increment;
        return rankOut;
    }
}
