using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

// The AVX-512 width of SimdGaussian's transform and scatter: tiles of 8 rows × 16 columns (16
// accumulators, 10 loads per 16 FMAs of 8 lanes each), with an 8-column tile where ld leaves 8.
// Each output element gets the same FMAs in the same order as in the AVX2 tiles: the extra
// transform terms past a column's own index multiply a zero of the triangular factor into an
// accumulator that started at +0 (so it is never −0), which leaves it unchanged.
public static unsafe partial class SimdGaussian
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Transform512(double* mean, double* lowerT, int* perm, int rank, double* z, int zStride, int m, int d, int ld, double* x)
    {
        var tile = stackalloc double[128];
        var rowPointers = stackalloc double*[8];
        for (var p = 0; p < m; p += 8)
        {
            var rows = Math.Min(8, m - p);
            // Rows past m repeat the first row; their results are discarded.
            for (var row = 0; row < 8; row++) rowPointers[row] = z + (long)(p + (row < rows ? row : 0)) * zStride;
            double* z0 = rowPointers[0], z1 = rowPointers[1], z2 = rowPointers[2], z3 = rowPointers[3],
                z4 = rowPointers[4], z5 = rowPointers[5], z6 = rowPointers[6], z7 = rowPointers[7];
            var j = 0;
            for (; j + 16 <= ld; j += 16)
            {
                var depth = Math.Min(j + 16, rank);
                Vector512<double> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                    a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default,
                    a60 = default, a61 = default, a70 = default, a71 = default;
                var f = lowerT + j;
                for (var k = 0; k < depth; k++, f += ld)
                {
                    var f0 = Vector512.Load(f);
                    var f1 = Vector512.Load(f + 8);
                    var b = Vector512.Create(z0[k]);
                    a00 = Vector512.FusedMultiplyAdd(b, f0, a00); a01 = Vector512.FusedMultiplyAdd(b, f1, a01);
                    b = Vector512.Create(z1[k]);
                    a10 = Vector512.FusedMultiplyAdd(b, f0, a10); a11 = Vector512.FusedMultiplyAdd(b, f1, a11);
                    b = Vector512.Create(z2[k]);
                    a20 = Vector512.FusedMultiplyAdd(b, f0, a20); a21 = Vector512.FusedMultiplyAdd(b, f1, a21);
                    b = Vector512.Create(z3[k]);
                    a30 = Vector512.FusedMultiplyAdd(b, f0, a30); a31 = Vector512.FusedMultiplyAdd(b, f1, a31);
                    b = Vector512.Create(z4[k]);
                    a40 = Vector512.FusedMultiplyAdd(b, f0, a40); a41 = Vector512.FusedMultiplyAdd(b, f1, a41);
                    b = Vector512.Create(z5[k]);
                    a50 = Vector512.FusedMultiplyAdd(b, f0, a50); a51 = Vector512.FusedMultiplyAdd(b, f1, a51);
                    b = Vector512.Create(z6[k]);
                    a60 = Vector512.FusedMultiplyAdd(b, f0, a60); a61 = Vector512.FusedMultiplyAdd(b, f1, a61);
                    b = Vector512.Create(z7[k]);
                    a70 = Vector512.FusedMultiplyAdd(b, f0, a70); a71 = Vector512.FusedMultiplyAdd(b, f1, a71);
                }
                a00.Store(tile); a01.Store(tile + 8); a10.Store(tile + 16); a11.Store(tile + 24);
                a20.Store(tile + 32); a21.Store(tile + 40); a30.Store(tile + 48); a31.Store(tile + 56);
                a40.Store(tile + 64); a41.Store(tile + 72); a50.Store(tile + 80); a51.Store(tile + 88);
                a60.Store(tile + 96); a61.Store(tile + 104); a70.Store(tile + 112); a71.Store(tile + 120);
                StorePermuted(mean, perm, tile, 16, rows, Math.Min(16, d - j), j, x + (long)p * ld, ld);
            }
            if (j < ld)
            {
                var depth = Math.Min(j + 8, rank);
                Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                var f = lowerT + j;
                for (var k = 0; k < depth; k++, f += ld)
                {
                    var f0 = Vector512.Load(f);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(z0[k]), f0, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(z1[k]), f0, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(z2[k]), f0, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(z3[k]), f0, a3);
                    a4 = Vector512.FusedMultiplyAdd(Vector512.Create(z4[k]), f0, a4);
                    a5 = Vector512.FusedMultiplyAdd(Vector512.Create(z5[k]), f0, a5);
                    a6 = Vector512.FusedMultiplyAdd(Vector512.Create(z6[k]), f0, a6);
                    a7 = Vector512.FusedMultiplyAdd(Vector512.Create(z7[k]), f0, a7);
                }
                a0.Store(tile); a1.Store(tile + 8); a2.Store(tile + 16); a3.Store(tile + 24);
                a4.Store(tile + 32); a5.Store(tile + 40); a6.Store(tile + 48); a7.Store(tile + 56);
                StorePermuted(mean, perm, tile, 8, rows, Math.Min(8, d - j), j, x + (long)p * ld, ld);
            }
        }
    }

    /// <summary>x[row, π(j + e)] = μ[π(j + e)] + tile[row, e] for the tile's valid rows and columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StorePermuted(double* mean, int* perm, double* tile, int width, int rows, int columns, int j, double* x, int ld)
    {
        for (var row = 0; row < rows; row++)
        {
            var xp = x + (long)row * ld;
            for (var e = 0; e < columns; e++)
            {
                var target = perm[j + e];
                xp[target] = mean[target] + tile[row * width + e];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Syrk512(double* rows, int m, int d, int ld, double scale, double* m2, double* centre)
    {
        const int chunk = 96;
        long packedLength = 0;
        for (var i = 0; i < d; i += 8)
            for (var j = i; j < ld; j += TileWidth(ld, j)) packedLength += 8 * TileWidth(ld, j);
        var packed = ThreadScratch.Doubles(ThreadScratch.TileSums, packedLength);
        new Span<double>(packed, (int)packedLength).Clear();
        var centred = centre is null ? null : ThreadScratch.Doubles(ThreadScratch.Centred, (long)chunk * ld);
        for (var p0 = 0; p0 < m; p0 += chunk)
        {
            var count = Math.Min(m, p0 + chunk) - p0;
            var source = rows + (long)p0 * ld;
            if (centred is not null)
            {
                for (var p = 0; p < count; p++)
                    for (var j = 0; j < ld; j += 8)
                        (Vector512.Load(source + (long)p * ld + j) - Vector512.Load(centre + j)).Store(centred + (long)p * ld + j);
                source = centred;
            }
            var t = packed;
            for (var i = 0; i < d; i += 8)
                for (var j = i; j < ld; j += TileWidth(ld, j))
                {
                    if (TileWidth(ld, j) == 16) Tile16(source, count, ld, i, j, t);
                    else Tile8(source, count, ld, i, j, t);
                    t += 8 * TileWidth(ld, j);
                }
        }
        var tile = packed;
        for (var i = 0; i < d; i += 8)
            for (var j = i; j < ld; j += TileWidth(ld, j))
            {
                var width = TileWidth(ld, j);
                for (var row = 0; row < 8 && i + row < d; row++)
                    for (var e = 0; e < width; e++)
                    {
                        var col = j + e;
                        if (col < i + row || col >= d) continue;
                        var v = tile[row * width + e] * scale;
                        m2[(long)(i + row) * d + col] = v;
                        m2[(long)col * d + i + row] = v;
                    }
                tile += 8 * width;
            }
    }

    /// <summary>Columns of the scatter tile that starts at column j: 16, or the 8 that ld leaves.</summary>
    static int TileWidth(int ld, int j) => ld - j >= 16 ? 16 : 8;

    /// <summary>Adds Σ_p row_p[i..i+8]ᵀ·row_p[j..j+16] over count rows to the packed tile t (8 × 16, row-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile16(double* source, int count, int ld, int i, int j, double* t)
    {
        Vector512<double> a00 = Vector512.Load(t), a01 = Vector512.Load(t + 8), a10 = Vector512.Load(t + 16), a11 = Vector512.Load(t + 24),
            a20 = Vector512.Load(t + 32), a21 = Vector512.Load(t + 40), a30 = Vector512.Load(t + 48), a31 = Vector512.Load(t + 56),
            a40 = Vector512.Load(t + 64), a41 = Vector512.Load(t + 72), a50 = Vector512.Load(t + 80), a51 = Vector512.Load(t + 88),
            a60 = Vector512.Load(t + 96), a61 = Vector512.Load(t + 104), a70 = Vector512.Load(t + 112), a71 = Vector512.Load(t + 120);
        var row = source;
        for (var p = 0; p < count; p++, row += ld)
        {
            var c0 = Vector512.Load(row + j);
            var c1 = Vector512.Load(row + j + 8);
            var b = Vector512.Create(row[i]);
            a00 = Vector512.FusedMultiplyAdd(b, c0, a00); a01 = Vector512.FusedMultiplyAdd(b, c1, a01);
            b = Vector512.Create(row[i + 1]);
            a10 = Vector512.FusedMultiplyAdd(b, c0, a10); a11 = Vector512.FusedMultiplyAdd(b, c1, a11);
            b = Vector512.Create(row[i + 2]);
            a20 = Vector512.FusedMultiplyAdd(b, c0, a20); a21 = Vector512.FusedMultiplyAdd(b, c1, a21);
            b = Vector512.Create(row[i + 3]);
            a30 = Vector512.FusedMultiplyAdd(b, c0, a30); a31 = Vector512.FusedMultiplyAdd(b, c1, a31);
            b = Vector512.Create(row[i + 4]);
            a40 = Vector512.FusedMultiplyAdd(b, c0, a40); a41 = Vector512.FusedMultiplyAdd(b, c1, a41);
            b = Vector512.Create(row[i + 5]);
            a50 = Vector512.FusedMultiplyAdd(b, c0, a50); a51 = Vector512.FusedMultiplyAdd(b, c1, a51);
            b = Vector512.Create(row[i + 6]);
            a60 = Vector512.FusedMultiplyAdd(b, c0, a60); a61 = Vector512.FusedMultiplyAdd(b, c1, a61);
            b = Vector512.Create(row[i + 7]);
            a70 = Vector512.FusedMultiplyAdd(b, c0, a70); a71 = Vector512.FusedMultiplyAdd(b, c1, a71);
        }
        a00.Store(t); a01.Store(t + 8); a10.Store(t + 16); a11.Store(t + 24);
        a20.Store(t + 32); a21.Store(t + 40); a30.Store(t + 48); a31.Store(t + 56);
        a40.Store(t + 64); a41.Store(t + 72); a50.Store(t + 80); a51.Store(t + 88);
        a60.Store(t + 96); a61.Store(t + 104); a70.Store(t + 112); a71.Store(t + 120);
    }

    /// <summary>The 8 × 8 tile of <see cref="Tile16"/> for the last 8 columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile8(double* source, int count, int ld, int i, int j, double* t)
    {
        Vector512<double> a0 = Vector512.Load(t), a1 = Vector512.Load(t + 8), a2 = Vector512.Load(t + 16), a3 = Vector512.Load(t + 24),
            a4 = Vector512.Load(t + 32), a5 = Vector512.Load(t + 40), a6 = Vector512.Load(t + 48), a7 = Vector512.Load(t + 56);
        var row = source;
        for (var p = 0; p < count; p++, row += ld)
        {
            var c = Vector512.Load(row + j);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i]), c, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 1]), c, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 2]), c, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 3]), c, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 4]), c, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 5]), c, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 6]), c, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(row[i + 7]), c, a7);
        }
        a0.Store(t); a1.Store(t + 8); a2.Store(t + 16); a3.Store(t + 24);
        a4.Store(t + 32); a5.Store(t + 40); a6.Store(t + 48); a7.Store(t + 56);
    }
}
