using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The transformer's matrix products for the CPU path (AVX2 + FMA, float32), one replicate and a
/// block of output rows per call. All three products of nn.Linear map onto one register-blocked
/// kernel, C = bias + A·B with B row-major [K][N]:
/// <list type="bullet">
/// <item>forward, out[N][OC] = in[N][C]·Wᵀ: A = in, B = Wᵀ (W [OC][C] transposed into scratch, OC·C
/// numbers against N·OC·C multiply-adds);</item>
/// <item>input gradient, din[N][C] = dout[N][OC]·W: A = dout, B = W as stored;</item>
/// <item>weight gradient, dW[OC][C] = doutᵀ·in: A = doutᵀ read with strides (A's numbers are
/// broadcast one at a time, so a strided A costs nothing), B = in as stored.</item>
/// </list>
/// The kernel keeps a 4 × 16 tile of C in eight registers: per k, two loads of B, four broadcasts of
/// A, eight FMAs. Column strips of B (16 wide, K long: 32 KiB at K = 512) stay in L1 while every
/// row block passes over them. Sums are float32 with FMA (K ≤ 512 terms here).
/// </summary>
public static unsafe class SimdMatMul
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// out[n][o] = Σ_c in[n][c]·w[o][c] + bias[o] (bias may be null) for <paramref name="rows"/> rows.
    /// <paramref name="transposed"/>: scratch for C·OC floats.
    /// </summary>
    public static void Forward(float* input, float* weight, float* bias, float* output, int rows, int inputWidth, int outputWidth, float* transposed)
    {
        for (var o = 0; o < outputWidth; o++)
            for (var c = 0; c < inputWidth; c++) transposed[(long)c * outputWidth + o] = weight[(long)o * inputWidth + c];
        Gemm(input, inputWidth, 1, transposed, outputWidth, output, outputWidth, rows, outputWidth, inputWidth, bias);
    }

    /// <summary>din[n][c] = Σ_o dout[n][o]·w[o][c] (overwrites) for <paramref name="rows"/> rows.</summary>
    public static void BackwardInput(float* dout, float* weight, float* dinput, int rows, int inputWidth, int outputWidth) =>
        Gemm(dout, outputWidth, 1, weight, inputWidth, dinput, inputWidth, rows, inputWidth, outputWidth, null);

    /// <summary>
    /// For outputs o in [first, first + count): dw[o][c] = Σ_n dout[n][o]·in[n][c] and, when dbias is
    /// not null, dbias[o] = Σ_n dout[n][o] (both overwrite). <paramref name="dweight"/> and
    /// <paramref name="dbias"/> point at the whole tensors.
    /// </summary>
    public static void BackwardWeight(float* dout, float* input, float* dweight, float* dbias, int rows, int inputWidth, int outputWidth,
        int first, int count)
    {
        Gemm(dout + first, 1, outputWidth, input, inputWidth, dweight + (long)first * inputWidth, inputWidth, count, inputWidth, rows, null);
        if (dbias == null) return;
        var o = first;
        for (; o + 8 <= first + count; o += 8)
        {
            var sum = Vector256<float>.Zero;
            for (var n = 0; n < rows; n++) sum += Avx.LoadVector256(dout + (long)n * outputWidth + o);
            sum.Store(dbias + o);
        }
        for (; o < first + count; o++)
        {
            var sum = 0.0f;
            for (var n = 0; n < rows; n++) sum += dout[(long)n * outputWidth + o];
            dbias[o] = sum;
        }
    }

    /// <summary>
    /// c[i][j] = bias[j] + Σ_p a(i, p)·b[p][j] for i &lt; m, j &lt; n (bias null: 0), where a(i, p) =
    /// a[i·aRow + p·aColumn]; b and c are row-major with leading dimensions ldb and ldc.
    /// </summary>
    public static void Gemm(float* a, long aRow, long aColumn, float* b, int ldb, float* c, int ldc, int m, int n, int k, float* bias)
    {
        var j = 0;
        for (; j + 16 <= n; j += 16)
        {
            var i = 0;
            for (; i + 4 <= m; i += 4) Tile4x16(a + i * aRow, aRow, aColumn, b + j, ldb, c + (long)i * ldc + j, ldc, k, bias == null ? null : bias + j);
            for (; i < m; i++)
            {
                Tile1x8(a + i * aRow, aColumn, b + j, ldb, c + (long)i * ldc + j, k, bias == null ? null : bias + j);
                Tile1x8(a + i * aRow, aColumn, b + j + 8, ldb, c + (long)i * ldc + j + 8, k, bias == null ? null : bias + j + 8);
            }
        }
        for (; j + 8 <= n; j += 8)
            for (var i = 0; i < m; i++)
                Tile1x8(a + i * aRow, aColumn, b + j, ldb, c + (long)i * ldc + j, k, bias == null ? null : bias + j);
        for (; j < n; j++)
            for (var i = 0; i < m; i++)
            {
                var sum = bias == null ? 0.0f : bias[j];
                for (var p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(a[i * aRow + p * aColumn], b[(long)p * ldb + j], sum);
                c[(long)i * ldc + j] = sum;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile4x16(float* a, long aRow, long aColumn, float* b, int ldb, float* c, int ldc, int k, float* bias)
    {
        var start0 = bias == null ? Vector256<float>.Zero : Avx.LoadVector256(bias);
        var start1 = bias == null ? Vector256<float>.Zero : Avx.LoadVector256(bias + 8);
        Vector256<float> c00 = start0, c01 = start1, c10 = start0, c11 = start1, c20 = start0, c21 = start1, c30 = start0, c31 = start1;
        for (var p = 0; p < k; p++)
        {
            var row = b + (long)p * ldb;
            var b0 = Avx.LoadVector256(row);
            var b1 = Avx.LoadVector256(row + 8);
            var column = a + p * aColumn;
            var a0 = Vector256.Create(column[0]);
            c00 = Fma.MultiplyAdd(a0, b0, c00);
            c01 = Fma.MultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(column[aRow]);
            c10 = Fma.MultiplyAdd(a1, b0, c10);
            c11 = Fma.MultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(column[2 * aRow]);
            c20 = Fma.MultiplyAdd(a2, b0, c20);
            c21 = Fma.MultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(column[3 * aRow]);
            c30 = Fma.MultiplyAdd(a3, b0, c30);
            c31 = Fma.MultiplyAdd(a3, b1, c31);
        }
        c00.Store(c); c01.Store(c + 8);
        c10.Store(c + ldc); c11.Store(c + ldc + 8);
        c20.Store(c + 2L * ldc); c21.Store(c + 2L * ldc + 8);
        c30.Store(c + 3L * ldc); c31.Store(c + 3L * ldc + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile1x8(float* a, long aColumn, float* b, int ldb, float* c, int k, float* bias)
    {
        var sum = bias == null ? Vector256<float>.Zero : Avx.LoadVector256(bias);
        for (var p = 0; p < k; p++) sum = Fma.MultiplyAdd(Vector256.Create(a[p * aColumn]), Avx.LoadVector256(b + (long)p * ldb), sum);
        sum.Store(c);
    }
}
