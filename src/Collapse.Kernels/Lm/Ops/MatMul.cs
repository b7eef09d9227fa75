using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Cpu;
using ILGPU;

namespace Collapse.Kernels.Lm;

// nn.Linear, batched over replicates: out[r][n][o] = Σ_c in[r][n][c]·W[r][o][c] + bias[r][o], weights
// [OC][C] inside the [R][P] parameter vector, activations compact [R][N][·]. A bias offset below 0
// means no bias (the head). Fusions the model uses: a residual add and LayerNorm before the product
// (NormMatMulForward), GELU after it (the MLP's first layer), and GELU's backward after the input
// gradient. Versions: the plain grid-stride kernels below, the CPU path's register-blocked AVX2
// product (MatMulCpu), and the GPU-shaped tiled kernels.

/// <summary>Arguments of the plain matmul kernels.</summary>
public struct MatMulArgs
{
    /// <summary>Forward: the input [R][N][C] and output [R][N][OC]. Backward: dout [R][N][OC], the forward's input, and dinput [R][N][C].</summary>
    public ArrayView<float> Input, Output, Dout, Dinput;
    /// <summary>The parameter vector and, backward, the gradient vector; offsets of W and the bias (&lt; 0: none) in each replicate's P.</summary>
    public ArrayView<float> Parameters, Gradients;
    public long Weight, Bias, ParameterCount;
    public int Replicates;
    public long RowsPerReplicate;
    public int InputWidth, OutputWidth;
}

static class MatMulKernels
{
    /// <summary>Items: R·N·OC, each a dot product of length C.</summary>
    public static void Forward(Index1D thread, MatMulArgs a, int stride)
    {
        var (input, parameters, output, inputWidth, outputWidth) = (a.Input, a.Parameters, a.Output, a.InputWidth, a.OutputWidth);
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / outputWidth;
            var o = (int)(item - row * outputWidth);
            var r = row / a.RowsPerReplicate;
            var w = r * a.ParameterCount + a.Weight + (long)o * inputWidth;
            var x = row * inputWidth;
            var sum = a.Bias >= 0 ? parameters[r * a.ParameterCount + a.Bias + o] : 0.0f;
            for (var c = 0; c < inputWidth; c++) sum += input[x + c] * parameters[w + c];
            output[item] = sum;
        }
    }

    /// <summary>dinput[r][n][c] = Σ_o dout[r][n][o]·W[r][o][c]; overwrites. Items: R·N·C.</summary>
    public static void BackwardInput(Index1D thread, MatMulArgs a, int stride)
    {
        var (dout, parameters, dinput, inputWidth, outputWidth) = (a.Dout, a.Parameters, a.Dinput, a.InputWidth, a.OutputWidth);
        var total = dinput.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / inputWidth;
            var c = (int)(item - row * inputWidth);
            var w = row / a.RowsPerReplicate * a.ParameterCount + a.Weight + c;
            var sum = 0.0f;
            for (var o = 0; o < outputWidth; o++) sum += dout[row * outputWidth + o] * parameters[w + (long)o * inputWidth];
            dinput[item] = sum;
        }
    }

    /// <summary>
    /// dW[r][o][c] = Σ_n dout[r][n][o]·in[r][n][c] and, in an extra column c = C, dbias[r][o] = Σ_n dout[r][n][o]
    /// (double sums over the N = B·T rows); overwrites. Items: R·OC·(C + 1), or R·OC·C without a bias.
    /// </summary>
    public static void BackwardWeight(Index1D thread, MatMulArgs a, int stride)
    {
        var (dout, input, gradients, inputWidth, outputWidth) = (a.Dout, a.Input, a.Gradients, a.InputWidth, a.OutputWidth);
        var columns = a.Bias >= 0 ? inputWidth + 1 : inputWidth;
        var total = (long)a.Replicates * outputWidth * columns;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)outputWidth * columns);
            var rest = item - r * outputWidth * columns;
            var o = (int)(rest / columns);
            var c = (int)(rest - (long)o * columns);
            var sum = 0.0;
            var first = r * a.RowsPerReplicate;
            if (c == inputWidth)
            {
                for (long n = first; n < first + a.RowsPerReplicate; n++) sum += dout[n * outputWidth + o];
                gradients[r * a.ParameterCount + a.Bias + o] = (float)sum;
            }
            else
            {
                for (long n = first; n < first + a.RowsPerReplicate; n++) sum += dout[n * outputWidth + o] * input[n * inputWidth + c];
                gradients[r * a.ParameterCount + a.Weight + (long)o * inputWidth + c] = (float)sum;
            }
        }
    }
}

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
static unsafe class MatMulCpu
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

public sealed unsafe partial class LmKernels
{
    /// <summary>
    /// output [R][N][OC] = input [R][N][C]·Wᵀ + bias (bias offset &lt; 0: none); with <paramref name="activated"/>
    /// non-empty, also activated = gelu(output).
    /// </summary>
    public void MatMulForward(ArrayView<float> input, ReplicatedParameters p, long weight, long bias, ArrayView<float> output,
        int replicates, long rowsPerReplicate, int inputWidth, int outputWidth, ArrayView<float> activated = default)
    {
        if (Version == LmVersion.Cpu)
        {
            accelerator.Synchronize();
            float* x = Ptr(input), w = Ptr(p.View), y = Ptr(output);
            var count = p.Count;
            var blocks = RowBlocks(replicates, rowsPerReplicate);
            Parallel.For(0, (long)replicates * blocks, CpuParallel.OneWorkerPerCore, item =>
            {
                var r = item / blocks;
                var (first, rows) = Block(item % blocks, blocks, rowsPerReplicate);
                var transposed = (float*)Unsafe.AsPointer(ref ThreadScratch.Floats((long)inputWidth * outputWidth)[0]);
                MatMulCpu.Forward(x + (r * rowsPerReplicate + first) * inputWidth, w + r * count + weight,
                    bias >= 0 ? w + r * count + bias : null, y + (r * rowsPerReplicate + first) * outputWidth, rows, inputWidth, outputWidth, transposed);
            });
        }
        else
            Launch(matMulForward, output.Length, MatMul(p, weight, bias, replicates, rowsPerReplicate, inputWidth, outputWidth) with
            {
                Input = input, Output = output,
            });
        if (activated.Length > 0) GeluForward(output, activated);
    }

    /// <summary>
    /// The block's LayerNorm and the product after it: with <paramref name="branch"/> non-empty, sum = stream + branch
    /// (the residual add) is normalized, else stream itself; normalized, mean and rstd are kept for backward; then
    /// output = normalized·Wᵀ + bias and, with <paramref name="activated"/> non-empty, gelu of it.
    /// </summary>
    public void NormMatMulForward(ArrayView<float> stream, ArrayView<float> branch, ArrayView<float> sum, ReplicatedParameters p,
        long normWeight, long normBias, ArrayView<float> normalized, ArrayView<float> mean, ArrayView<float> rstd, long weight, long bias,
        ArrayView<float> output, int replicates, long rowsPerReplicate, int width, int outputWidth, ArrayView<float> activated = default)
    {
        var x = stream;
        if (branch.Length > 0)
        {
            ResidualForward(stream, branch, sum);
            x = sum;
        }
        LayerNormForward(x, p, normWeight, normBias, normalized, mean, rstd, rowsPerReplicate, width);
        MatMulForward(normalized, p, weight, bias, output, replicates, rowsPerReplicate, width, outputWidth, activated);
    }

    /// <summary>
    /// dinput = dout·W (overwrites), times gelu'(geluInput) when <paramref name="geluInput"/> is non-empty (the
    /// MLP's GELU backward); dW = doutᵀ·input and dbias = Σ dout (overwrite).
    /// </summary>
    public void MatMulBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> dinput, ReplicatedParameters gradients, int replicates, long rowsPerReplicate, int inputWidth, int outputWidth,
        ArrayView<float> geluInput = default)
    {
        if (Version == LmVersion.Cpu)
        {
            accelerator.Synchronize();
            float* dy = Ptr(dout), x = Ptr(input), w = Ptr(p.View), dx = Ptr(dinput), g = Ptr(gradients.View);
            var count = p.Count;
            var rowBlocks = RowBlocks(replicates, rowsPerReplicate);
            var outputBlocks = RowBlocks(replicates, outputWidth);
            // Work items: (replicate, block of input-gradient rows), then (replicate, block of weight-gradient rows).
            Parallel.For(0, (long)replicates * (rowBlocks + outputBlocks), CpuParallel.OneWorkerPerCore, item =>
            {
                var r = item / (rowBlocks + outputBlocks);
                var k = item % (rowBlocks + outputBlocks);
                var rows = (int)rowsPerReplicate;
                if (k < rowBlocks)
                {
                    var (first, blockRows) = Block(k, rowBlocks, rowsPerReplicate);
                    MatMulCpu.BackwardInput(dy + (r * rowsPerReplicate + first) * outputWidth, w + r * count + weight,
                        dx + (r * rowsPerReplicate + first) * inputWidth, blockRows, inputWidth, outputWidth);
                }
                else
                {
                    var (first, outputs) = Block(k - rowBlocks, outputBlocks, outputWidth);
                    MatMulCpu.BackwardWeight(dy + r * rowsPerReplicate * outputWidth, x + r * rowsPerReplicate * inputWidth,
                        g + r * count + weight, bias >= 0 ? g + r * count + bias : null, rows, inputWidth, outputWidth, (int)first, outputs);
                }
            });
        }
        else
        {
            var args = MatMul(p, weight, bias, replicates, rowsPerReplicate, inputWidth, outputWidth) with
            {
                Dout = dout, Input = input, Dinput = dinput, Gradients = gradients.View,
            };
            Launch(matMulBackwardInput, dinput.Length, args);
            Launch(matMulBackwardWeight, (long)replicates * outputWidth * (bias >= 0 ? inputWidth + 1 : inputWidth), args);
        }
        if (geluInput.Length > 0) GeluBackward(geluInput, dinput, dinput);
    }

    static MatMulArgs MatMul(ReplicatedParameters p, long weight, long bias, int replicates, long rowsPerReplicate, int inputWidth, int outputWidth) => new()
    {
        Parameters = p.View, Weight = weight, Bias = bias, ParameterCount = p.Count, Replicates = replicates,
        RowsPerReplicate = rowsPerReplicate, InputWidth = inputWidth, OutputWidth = outputWidth,
    };

    /// <summary>
    /// Blocks of rows per replicate for the CPU work items: enough items to give every core two
    /// (so one replicate alone still uses the machine), blocks a multiple of 4 rows (the SIMD tile).
    /// </summary>
    static int RowBlocks(int replicates, long rows)
    {
        var wanted = (2 * Environment.ProcessorCount + replicates - 1) / replicates;
        return (int)Math.Max(1, Math.Min(wanted, (rows + 3) / 4));
    }

    static (long First, int Count) Block(long index, int blocks, long rows)
    {
        var size = ((rows + blocks - 1) / blocks + 3) / 4 * 4;
        var first = Math.Min(rows, index * size);
        return (first, (int)(Math.Min(rows, first + size) - first));
    }
}
