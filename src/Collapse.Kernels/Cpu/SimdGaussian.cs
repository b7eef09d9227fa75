using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The Gaussian hot loops for the CPU path in AVX2 C#, one replicate per call: the sampling
/// transform and the scatter matrix are GEMM-shaped (n·d² multiply-adds), where ILGPU's CPU
/// accelerator runs at about 1 GFLOP/s. Register-blocked 8 rows × 8 columns (16 accumulators,
/// 10 loads per 16 FMAs; the JIT has 32 vector registers where AVX-512 is present); rows have
/// <c>ld</c> (a multiple of 8) doubles with zero padding, so no column tail is needed.
/// </summary>
public static unsafe class SimdGaussian
{
    /// <summary>
    /// x[p, π(j)] = μ[π(j)] + Σ_{k ≤ min(j, rank−1)} z[p·d + k] · L[j, k] for p &lt; m, where L is the
    /// pivoted Cholesky factor in pivot order (given transposed, <paramref name="lowerT"/>[k, j] = L[j, k])
    /// and π the pivot permutation. Working in pivot order keeps L triangular, which halves the
    /// multiply-adds of a dense Σ = F·Fᵀ transform; the permutation is applied on store.
    /// Columns past d are left untouched (zero padding).
    /// </summary>
    public static void Transform(double* mean, double* lowerT, int* perm, int rank, double* z, int m, int d, int ld, double* x)
    {
        var tile = stackalloc double[64];
        var rowPointers = stackalloc double*[8];
        for (var p = 0; p < m; p += 8)
        {
            var rows = Math.Min(8, m - p);
            // Rows past m repeat the first row; their results are discarded.
            for (var row = 0; row < 8; row++) rowPointers[row] = z + (long)(p + (row < rows ? row : 0)) * d;
            double* z0 = rowPointers[0], z1 = rowPointers[1], z2 = rowPointers[2], z3 = rowPointers[3],
                z4 = rowPointers[4], z5 = rowPointers[5], z6 = rowPointers[6], z7 = rowPointers[7];
            for (var j = 0; j < ld; j += 8)
            {
                var depth = Math.Min(j + 8, rank);
                Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                    a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default,
                    a60 = default, a61 = default, a70 = default, a71 = default;
                var f = lowerT + j;
                for (var k = 0; k < depth; k++, f += ld)
                {
                    var f0 = Vector256.Load(f);
                    var f1 = Vector256.Load(f + 4);
                    var b = Vector256.Create(z0[k]);
                    a00 = Vector256.FusedMultiplyAdd(b, f0, a00); a01 = Vector256.FusedMultiplyAdd(b, f1, a01);
                    b = Vector256.Create(z1[k]);
                    a10 = Vector256.FusedMultiplyAdd(b, f0, a10); a11 = Vector256.FusedMultiplyAdd(b, f1, a11);
                    b = Vector256.Create(z2[k]);
                    a20 = Vector256.FusedMultiplyAdd(b, f0, a20); a21 = Vector256.FusedMultiplyAdd(b, f1, a21);
                    b = Vector256.Create(z3[k]);
                    a30 = Vector256.FusedMultiplyAdd(b, f0, a30); a31 = Vector256.FusedMultiplyAdd(b, f1, a31);
                    b = Vector256.Create(z4[k]);
                    a40 = Vector256.FusedMultiplyAdd(b, f0, a40); a41 = Vector256.FusedMultiplyAdd(b, f1, a41);
                    b = Vector256.Create(z5[k]);
                    a50 = Vector256.FusedMultiplyAdd(b, f0, a50); a51 = Vector256.FusedMultiplyAdd(b, f1, a51);
                    b = Vector256.Create(z6[k]);
                    a60 = Vector256.FusedMultiplyAdd(b, f0, a60); a61 = Vector256.FusedMultiplyAdd(b, f1, a61);
                    b = Vector256.Create(z7[k]);
                    a70 = Vector256.FusedMultiplyAdd(b, f0, a70); a71 = Vector256.FusedMultiplyAdd(b, f1, a71);
                }
                a00.Store(tile); a01.Store(tile + 4); a10.Store(tile + 8); a11.Store(tile + 12);
                a20.Store(tile + 16); a21.Store(tile + 20); a30.Store(tile + 24); a31.Store(tile + 28);
                a40.Store(tile + 32); a41.Store(tile + 36); a50.Store(tile + 40); a51.Store(tile + 44);
                a60.Store(tile + 48); a61.Store(tile + 52); a70.Store(tile + 56); a71.Store(tile + 60);
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
    /// Mean (d entries) and scatter matrix M2 = Σ (x − x̄)(x − x̄)ᵀ (d×d, full) of m points,
    /// centred first (chunk by chunk, inside <see cref="Syrk"/>) so a far-away mean costs no precision.
    /// </summary>
    public static void Moments(double* x, int m, int d, int ld, double* mean, double* m2)
    {
        var sums = stackalloc double[ld];
        for (var j = 0; j < ld; j += 4)
        {
            var acc = Vector256<double>.Zero;
            for (var p = 0; p < m; p++) acc += Vector256.Load(x + (long)p * ld + j);
            (acc / Vector256.Create((double)m)).Store(sums + j);
        }
        for (var j = 0; j < d; j++) mean[j] = sums[j];
        Syrk(x, m, d, ld, 1.0, m2, sums);
    }

    /// <summary>
    /// M2 = scale · Σ_{p &lt; m} (row_p − c)(row_p − c)ᵀ (d×d, full) for rows of <paramref name="ld"/>
    /// doubles, c = <paramref name="centre"/> (ld entries) or zero: upper-triangle tiles of 8 × 8,
    /// mirrored on store.
    /// </summary>
    public static void Syrk(double* rows, int m, int d, int ld, double scale, double* m2, double* centre = null)
    {
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
                    Vector256<double> a00 = Vector256.Load(t), a01 = Vector256.Load(t + 4), a10 = Vector256.Load(t + 8), a11 = Vector256.Load(t + 12),
                        a20 = Vector256.Load(t + 16), a21 = Vector256.Load(t + 20), a30 = Vector256.Load(t + 24), a31 = Vector256.Load(t + 28),
                        a40 = Vector256.Load(t + 32), a41 = Vector256.Load(t + 36), a50 = Vector256.Load(t + 40), a51 = Vector256.Load(t + 44),
                        a60 = Vector256.Load(t + 48), a61 = Vector256.Load(t + 52), a70 = Vector256.Load(t + 56), a71 = Vector256.Load(t + 60);
                    var row = source;
                    for (var p = p0; p < p1; p++, row += ld)
                    {
                        var c0 = Vector256.Load(row + j);
                        var c1 = Vector256.Load(row + j + 4);
                        var b = Vector256.Create(row[i]);
                        a00 = Vector256.FusedMultiplyAdd(b, c0, a00); a01 = Vector256.FusedMultiplyAdd(b, c1, a01);
                        b = Vector256.Create(row[i + 1]);
                        a10 = Vector256.FusedMultiplyAdd(b, c0, a10); a11 = Vector256.FusedMultiplyAdd(b, c1, a11);
                        b = Vector256.Create(row[i + 2]);
                        a20 = Vector256.FusedMultiplyAdd(b, c0, a20); a21 = Vector256.FusedMultiplyAdd(b, c1, a21);
                        b = Vector256.Create(row[i + 3]);
                        a30 = Vector256.FusedMultiplyAdd(b, c0, a30); a31 = Vector256.FusedMultiplyAdd(b, c1, a31);
                        b = Vector256.Create(row[i + 4]);
                        a40 = Vector256.FusedMultiplyAdd(b, c0, a40); a41 = Vector256.FusedMultiplyAdd(b, c1, a41);
                        b = Vector256.Create(row[i + 5]);
                        a50 = Vector256.FusedMultiplyAdd(b, c0, a50); a51 = Vector256.FusedMultiplyAdd(b, c1, a51);
                        b = Vector256.Create(row[i + 6]);
                        a60 = Vector256.FusedMultiplyAdd(b, c0, a60); a61 = Vector256.FusedMultiplyAdd(b, c1, a61);
                        b = Vector256.Create(row[i + 7]);
                        a70 = Vector256.FusedMultiplyAdd(b, c0, a70); a71 = Vector256.FusedMultiplyAdd(b, c1, a71);
                    }
                    a00.Store(t); a01.Store(t + 4); a10.Store(t + 8); a11.Store(t + 12);
                    a20.Store(t + 16); a21.Store(t + 20); a30.Store(t + 24); a31.Store(t + 28);
                    a40.Store(t + 32); a41.Store(t + 36); a50.Store(t + 40); a51.Store(t + 44);
                    a60.Store(t + 48); a61.Store(t + 52); a70.Store(t + 56); a71.Store(t + 60);
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
        double* work, int* perm, double* column, double* factorT, double* lowerT, out double logDet)
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
            // Only the lower triangle is kept up to date: half the work of a full update.
            for (var i = k1 + 1; i < d; i++)
            {
                var c0 = Vector256.Create(-column[i]);
                var c1 = Vector256.Create(-second[i]);
                var row = a + (long)i * d;
                var j = k1 + 1;
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
