using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The Gaussian hot loops for the CPU path in AVX2 C#, one replicate per call: the sampling
/// transform and the scatter matrix are GEMM-shaped (n·d² multiply-adds), where ILGPU's CPU
/// accelerator runs at about 1 GFLOP/s. Register-blocked 4 rows × 8 columns; rows have
/// <c>ld</c> (a multiple of 4) doubles with zero padding, so no column tail is needed.
/// </summary>
public static unsafe class SimdGaussian
{
    /// <summary>x[p, :] = μ + Σ_{c &lt; rank} z[p·d + c] · FT[c, :] for p &lt; m.</summary>
    public static void Transform(double* mean, double* factorT, int rank, double* z, int m, int d, int ld, double* x)
    {
        var p = 0;
        for (; p + 4 <= m; p += 4)
        {
            var z0 = z + (long)p * d;
            for (var j = 0; j < ld; j += 8)
            {
                if (j + 8 <= ld) Tile4x8(mean + j, factorT + j, rank, z0, d, ld, x + (long)p * ld + j, d - j);
                else Tile4x4(mean + j, factorT + j, rank, z0, d, ld, x + (long)p * ld + j, d - j);
            }
        }
        for (; p < m; p++)
        {
            var zp = z + (long)p * d;
            var xp = x + (long)p * ld;
            for (var j = 0; j < ld; j += 4)
            {
                var acc = LoadMean(mean + j, d - j);
                for (var c = 0; c < rank; c++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(zp[c]), Vector256.Load(factorT + (long)c * ld + j), acc);
                acc.Store(xp + j);
            }
        }
    }

    /// <summary>The mean's 4 entries from column j, zero past d so padding stays zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<double> LoadMean(double* mean, int remaining) => remaining >= 4
        ? Vector256.Load(mean)
        : Vector256.Create(mean[0], remaining > 1 ? mean[1] : 0, remaining > 2 ? mean[2] : 0, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile4x8(double* mean, double* f, int rank, double* z, int d, int ld, double* x, int remaining)
    {
        var m0 = LoadMean(mean, remaining);
        var m1 = remaining > 4 ? LoadMean(mean + 4, remaining - 4) : Vector256<double>.Zero;
        Vector256<double> a00 = m0, a01 = m1, a10 = m0, a11 = m1, a20 = m0, a21 = m1, a30 = m0, a31 = m1;
        for (var c = 0; c < rank; c++)
        {
            var f0 = Vector256.Load(f + (long)c * ld);
            var f1 = Vector256.Load(f + (long)c * ld + 4);
            var b0 = Vector256.Create(z[c]);
            var b1 = Vector256.Create(z[d + c]);
            var b2 = Vector256.Create(z[2 * d + c]);
            var b3 = Vector256.Create(z[3 * d + c]);
            a00 = Vector256.FusedMultiplyAdd(b0, f0, a00); a01 = Vector256.FusedMultiplyAdd(b0, f1, a01);
            a10 = Vector256.FusedMultiplyAdd(b1, f0, a10); a11 = Vector256.FusedMultiplyAdd(b1, f1, a11);
            a20 = Vector256.FusedMultiplyAdd(b2, f0, a20); a21 = Vector256.FusedMultiplyAdd(b2, f1, a21);
            a30 = Vector256.FusedMultiplyAdd(b3, f0, a30); a31 = Vector256.FusedMultiplyAdd(b3, f1, a31);
        }
        a00.Store(x); a01.Store(x + 4);
        a10.Store(x + ld); a11.Store(x + ld + 4);
        a20.Store(x + 2 * ld); a21.Store(x + 2 * ld + 4);
        a30.Store(x + 3 * ld); a31.Store(x + 3 * ld + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile4x4(double* mean, double* f, int rank, double* z, int d, int ld, double* x, int remaining)
    {
        var m0 = LoadMean(mean, remaining);
        Vector256<double> a0 = m0, a1 = m0, a2 = m0, a3 = m0;
        for (var c = 0; c < rank; c++)
        {
            var f0 = Vector256.Load(f + (long)c * ld);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(z[c]), f0, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Create(z[d + c]), f0, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Create(z[2 * d + c]), f0, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Create(z[3 * d + c]), f0, a3);
        }
        a0.Store(x); a1.Store(x + ld); a2.Store(x + 2 * ld); a3.Store(x + 3 * ld);
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

        // M2 = Cᵀ·C, upper-triangle tiles of 4 rows × 8 columns, mirrored on store.
        for (var i = 0; i < d; i += 4)
        {
            for (var j = i & ~7; j < ld; j += 8)
            {
                var width = Math.Min(8, ld - j);
                Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default,
                    a20 = default, a21 = default, a30 = default, a31 = default;
                for (var p = 0; p < m; p++)
                {
                    var row = centred + (long)p * ld;
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
                StoreMirrored(m2, d, i, j, a00, a01);
                StoreMirrored(m2, d, i + 1, j, a10, a11);
                StoreMirrored(m2, d, i + 2, j, a20, a21);
                StoreMirrored(m2, d, i + 3, j, a30, a31);
            }
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
    /// Returns the rank; writes FT (d×ld, rows ≥ rank zero) and log det (−∞ when rank &lt; d).
    /// </summary>
    public static int PivotedCholesky(double* m2, double inverseCount, int maxRank, int d, int ld,
        double* work, int* perm, double* column, double* factorT, out double logDet)
    {
        var a = work;
        for (long e = 0; e < (long)d * d; e++) a[e] = m2[e] * inverseCount;
        for (var i = 0; i < d; i++) perm[i] = i;
        var k = 0;
        var sumLog = 0.0;
        for (; k < maxRank; k++)
        {
            var p = k;
            for (var i = k + 1; i < d; i++)
                if (a[(long)i * d + i] > a[(long)p * d + p]) p = i;
            var pivot = a[(long)p * d + p];
            if (!(pivot > 0.0)) break;
            if (p != k)
            {
                for (var j = 0; j < d; j++) (a[(long)k * d + j], a[(long)p * d + j]) = (a[(long)p * d + j], a[(long)k * d + j]);
                for (var i = 0; i < d; i++) (a[(long)i * d + k], a[(long)i * d + p]) = (a[(long)i * d + p], a[(long)i * d + k]);
                (perm[k], perm[p]) = (perm[p], perm[k]);
            }
            var lkk = Math.Sqrt(pivot);
            sumLog += Math.Log(pivot);
            a[(long)k * d + k] = lkk;
            for (var i = k + 1; i < d; i++)
            {
                a[(long)i * d + k] /= lkk;
                column[i] = a[(long)i * d + k];
            }
            for (var i = k + 1; i < d; i++)
            {
                var li = Vector256.Create(column[i]);
                var row = a + (long)i * d;
                var j = k + 1;
                for (; j + 4 <= d; j += 4)
                    (Vector256.Load(row + j) - li * Vector256.Load(column + j)).Store(row + j);
                for (; j < d; j++) row[j] -= column[i] * column[j];
            }
        }
        new Span<double>(factorT, d * ld).Clear();
        for (var c = 0; c < k; c++)
            for (var i = c; i < d; i++)
                factorT[(long)c * ld + perm[i]] = a[(long)i * d + c];
        logDet = k == d ? sumLog : double.NegativeInfinity;
        return k;
    }
}
