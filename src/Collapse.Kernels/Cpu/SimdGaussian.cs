using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The Gaussian hot loops for the CPU path in AVX2 C#, one replicate per call: the sampling
/// transform and the scatter matrix are GEMM-shaped (n·d² multiply-adds), where ILGPU's CPU
/// accelerator runs at about 1 GFLOP/s. Register-blocked 4 rows × 8 columns; rows have
/// <c>ld</c> (a multiple of 4) doubles with zero padding, so no column tail is needed.
/// The 4×8 tile has 8 accumulators and 6 loads per 8 FMAs, which keeps AVX2's FMA units busy.
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
        var tile = stackalloc double[32];
        for (var p = 0; p < m; p += 4)
        {
            var rows = Math.Min(4, m - p);
            var z0 = z + (long)p * d;
            for (var j = 0; j < ld; j += 8)
            {
                var width = Math.Min(8, ld - j);
                var depth = Math.Min(j + width, rank);
                Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default,
                    a20 = default, a21 = default, a30 = default, a31 = default;
                // Rows past m read z of the next rows (or zero rows below); their results are discarded.
                double* zr0 = z0, zr1 = rows > 1 ? z0 + d : z0, zr2 = rows > 2 ? z0 + 2 * d : z0, zr3 = rows > 3 ? z0 + 3 * d : z0;
                for (var k = 0; k < depth; k++)
                {
                    var f0 = Vector256.Load(lowerT + (long)k * ld + j);
                    var f1 = width == 8 ? Vector256.Load(lowerT + (long)k * ld + j + 4) : Vector256<double>.Zero;
                    var b0 = Vector256.Create(zr0[k]);
                    var b1 = Vector256.Create(zr1[k]);
                    var b2 = Vector256.Create(zr2[k]);
                    var b3 = Vector256.Create(zr3[k]);
                    a00 = Vector256.FusedMultiplyAdd(b0, f0, a00); a01 = Vector256.FusedMultiplyAdd(b0, f1, a01);
                    a10 = Vector256.FusedMultiplyAdd(b1, f0, a10); a11 = Vector256.FusedMultiplyAdd(b1, f1, a11);
                    a20 = Vector256.FusedMultiplyAdd(b2, f0, a20); a21 = Vector256.FusedMultiplyAdd(b2, f1, a21);
                    a30 = Vector256.FusedMultiplyAdd(b3, f0, a30); a31 = Vector256.FusedMultiplyAdd(b3, f1, a31);
                }
                a00.Store(tile); a01.Store(tile + 4); a10.Store(tile + 8); a11.Store(tile + 12);
                a20.Store(tile + 16); a21.Store(tile + 20); a30.Store(tile + 24); a31.Store(tile + 28);
                var columns = Math.Min(width, d - j);
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
    /// Mean (d entries) and scatter matrix M2 = Σ (x − x̄)(x − x̄)ᵀ (d×d, full) of m points;
    /// <paramref name="centred"/> is scratch for m·ld doubles.
    /// </summary>
    public static void Moments(double* x, int m, int d, int ld, double* mean, double* m2, double* centred)
    {
        var sumLength = ld;
        var sums = stackalloc double[sumLength];
        for (var j = 0; j < ld; j += 4)
        {
            var acc = Vector256<double>.Zero;
            for (var p = 0; p < m; p++) acc += Vector256.Load(x + (long)p * ld + j);
            (acc / Vector256.Create((double)m)).Store(sums + j);
        }
        for (var j = 0; j < d; j++) mean[j] = sums[j];
        for (var p = 0; p < m; p++)
            for (var j = 0; j < ld; j += 4)
                (Vector256.Load(x + (long)p * ld + j) - Vector256.Load(sums + j)).Store(centred + (long)p * ld + j);

        Syrk(centred, m, d, ld, 1.0, m2);
    }

    /// <summary>
    /// M2 = scale · Σ_{p &lt; m} row_p·row_pᵀ (d×d, full) for rows of <paramref name="ld"/> doubles
    /// (zero padding): upper-triangle tiles of 4 rows × 8 columns, mirrored on store.
    /// </summary>
    public static void Syrk(double* rows, int m, int d, int ld, double scale, double* m2)
    {
        // Points in chunks small enough to stay in L2 while every tile passes over them; tile sums
        // are carried in a packed buffer between chunks.
        const int chunk = 96;
        var tiles = 0;
        for (var i = 0; i < d; i += 4)
            for (var j = i & ~7; j < ld; j += 8) tiles++;
        var sums = new double[tiles * 32];
        fixed (double* packed = sums)
        {
            for (var p0 = 0; p0 < m; p0 += chunk)
            {
                var p1 = Math.Min(m, p0 + chunk);
                var tile = packed;
                for (var i = 0; i < d; i += 4)
                {
                    for (var j = i & ~7; j < ld; j += 8, tile += 32)
                    {
                        var width = Math.Min(8, ld - j);
                        var a00 = Vector256.Load(tile); var a01 = Vector256.Load(tile + 4);
                        var a10 = Vector256.Load(tile + 8); var a11 = Vector256.Load(tile + 12);
                        var a20 = Vector256.Load(tile + 16); var a21 = Vector256.Load(tile + 20);
                        var a30 = Vector256.Load(tile + 24); var a31 = Vector256.Load(tile + 28);
                        for (var p = p0; p < p1; p++)
                        {
                            var row = rows + (long)p * ld;
                            var c0 = Vector256.Load(row + j);
                            var c1 = width == 8 ? Vector256.Load(row + j + 4) : Vector256<double>.Zero;
                            var b0 = Vector256.Create(row[i]);
                            var b1 = Vector256.Create(row[i + 1]);
                            var b2 = Vector256.Create(row[i + 2]);
                            var b3 = Vector256.Create(row[i + 3]);
                            a00 = Vector256.FusedMultiplyAdd(b0, c0, a00); a01 = Vector256.FusedMultiplyAdd(b0, c1, a01);
                            a10 = Vector256.FusedMultiplyAdd(b1, c0, a10); a11 = Vector256.FusedMultiplyAdd(b1, c1, a11);
                            a20 = Vector256.FusedMultiplyAdd(b2, c0, a20); a21 = Vector256.FusedMultiplyAdd(b2, c1, a21);
                            a30 = Vector256.FusedMultiplyAdd(b3, c0, a30); a31 = Vector256.FusedMultiplyAdd(b3, c1, a31);
                        }
                        a00.Store(tile); a01.Store(tile + 4); a10.Store(tile + 8); a11.Store(tile + 12);
                        a20.Store(tile + 16); a21.Store(tile + 20); a30.Store(tile + 24); a31.Store(tile + 28);
                    }
                }
            }
            var s = Vector256.Create(scale);
            var t = packed;
            for (var i = 0; i < d; i += 4)
                for (var j = i & ~7; j < ld; j += 8, t += 32)
                    for (var row = 0; row < 4; row++)
                        StoreMirrored(m2, d, i + row, j, Vector256.Load(t + 8 * row) * s, Vector256.Load(t + 8 * row + 4) * s);
        }
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
    /// <paramref name="work"/> holds d·d doubles, <paramref name="perm"/> d ints, <paramref name="column"/> d doubles.
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
        var k = 0;
        var sumLog = 0.0;
        for (; k < maxRank; k++)
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
            // Only the lower triangle is kept up to date: half the work of a full update.
            for (var i = k + 1; i < d; i++)
            {
                var li = Vector256.Create(column[i]);
                var row = a + (long)i * d;
                var j = k + 1;
                for (; j + 4 <= i + 1; j += 4)
                    (Vector256.Load(row + j) - li * Vector256.Load(column + j)).Store(row + j);
                for (; j <= i; j++) row[j] -= column[i] * column[j];
            }
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
