using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// nn.Linear, batched over replicates: out[r][n][o] = Σ_c in[r][n][c]·W[r][o][c] + bias[r][o], weights
// [OC][C] inside the [R][P] parameter vector, activations compact [R][N][·]. A bias offset below 0
// means no bias (the head). Fusions the model uses: a residual add and LayerNorm before the product
// (NormMatMulForward), GELU after it (the MLP's first layer), and GELU's backward after the input
// gradient. Versions: the plain grid-stride kernels below, the CPU path's register-blocked AVX2
// product (MatMulCpu), and the GPU-shaped tiled kernels.

/// <summary>
/// Arguments of <see cref="TiledMatMulKernels.Forward"/>: out[r][n][o] = Σ_c A[r][n][c]·W[r][o][c] + bias[r][o],
/// A the input rows, or with the LayerNorm prologue (<see cref="NormWeight"/> ≥ 0) A = LayerNorm(s), s = Input
/// (+ Addend). Activations are compact [R][Rows][width]; tensors sit at offsets inside the [R][ParameterCount]
/// parameter vector. An empty view (<c>default</c>) is an absent one.
/// </summary>
public struct MatMulForwardArgs
{
    /// <summary>[R][Rows][InputWidth]: the rows, or with the prologue the residual stream x.</summary>
    public ArrayView<float> Input;
    /// <summary>Prologue only, optional: [R][Rows][InputWidth] added to Input first (s = x + y, the residual add).</summary>
    public ArrayView<float> Addend;
    /// <summary>Written when Addend is given: s = Input + Addend. Must not alias Input or Addend.</summary>
    public ArrayView<float> Sum;
    /// <summary>The [R][ParameterCount] parameter vector.</summary>
    public ArrayView<float> Parameters;
    /// <summary>Prologue only: LayerNorm(s), [R][Rows][InputWidth].</summary>
    public ArrayView<float> Normalized;
    /// <summary>Prologue only: the mean and 1/std of each row of s, [R][Rows].</summary>
    public ArrayView<float> Mean, Rstd;
    /// <summary>[R][Rows][OutputWidth]: the product plus bias.</summary>
    public ArrayView<float> Output;
    /// <summary>Optional: gelu(Output), [R][Rows][OutputWidth] (the GELU epilogue).</summary>
    public ArrayView<float> Activated;
    /// <summary>Floats per replicate in Parameters (P).</summary>
    public long ParameterCount;
    /// <summary>Offsets in a replicate's parameters: W [OutputWidth][InputWidth] row-major; bias [OutputWidth] (&lt; 0: none).</summary>
    public long Weight, Bias;
    /// <summary>Offsets of the LayerNorm's weight and bias [InputWidth]; NormWeight &lt; 0: no prologue.</summary>
    public long NormWeight, NormBias;
    public int Replicates;
    /// <summary>Rows per replicate (N = batch·time).</summary>
    public long Rows;
    public int InputWidth, OutputWidth;
}

/// <summary>
/// Arguments of <see cref="TiledMatMulKernels.Backward"/>: dinput = dout·W (· gelu'(GeluInput) when given),
/// dW = doutᵀ·input and dbias = Σ_n dout, all overwritten. Dinput must not alias Dout, Input or GeluInput
/// (the weight-gradient groups read those while the input-gradient groups write).
/// </summary>
public struct MatMulBackwardArgs
{
    /// <summary>[R][Rows][OutputWidth]: the gradient of the forward's output.</summary>
    public ArrayView<float> Dout;
    /// <summary>[R][Rows][InputWidth]: the forward's input (the rows that multiplied W).</summary>
    public ArrayView<float> Input;
    /// <summary>The [R][ParameterCount] parameter vector (W read from it).</summary>
    public ArrayView<float> Parameters;
    /// <summary>[R][Rows][InputWidth]: dout·W, overwritten.</summary>
    public ArrayView<float> Dinput;
    /// <summary>Optional: [R][Rows][InputWidth], the pre-activation h with Input = gelu(h); Dinput is then dout·W·gelu'(h).</summary>
    public ArrayView<float> GeluInput;
    /// <summary>The [R][ParameterCount] gradient vector: dW and dbias written at the Weight and Bias offsets.</summary>
    public ArrayView<float> Gradients;
    public long ParameterCount;
    /// <summary>Offsets of W [OutputWidth][InputWidth] and bias [OutputWidth] (&lt; 0: none) in a replicate's parameters.</summary>
    public long Weight, Bias;
    public int Replicates;
    /// <summary>Rows per replicate (N = batch·time).</summary>
    public long Rows;
    public int InputWidth, OutputWidth;
}

static class MatMulKernels
{
    /// <summary>Items: R·N·OC, each a dot product of length C.</summary>
    public static void Forward(Index1D thread, MatMulForwardArgs a, int stride)
    {
        var (input, parameters, output, inputWidth, outputWidth) = (a.Input, a.Parameters, a.Output, a.InputWidth, a.OutputWidth);
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / outputWidth;
            var o = (int)(item - row * outputWidth);
            var r = row / a.Rows;
            var w = r * a.ParameterCount + a.Weight + (long)o * inputWidth;
            var x = row * inputWidth;
            var sum = a.Bias >= 0 ? parameters[r * a.ParameterCount + a.Bias + o] : 0.0f;
            for (var c = 0; c < inputWidth; c++) sum += input[x + c] * parameters[w + c];
            output[item] = sum;
        }
    }

    /// <summary>dinput[r][n][c] = Σ_o dout[r][n][o]·W[r][o][c]; overwrites. Items: R·N·C.</summary>
    public static void BackwardInput(Index1D thread, MatMulBackwardArgs a, int stride)
    {
        var (dout, parameters, dinput, inputWidth, outputWidth) = (a.Dout, a.Parameters, a.Dinput, a.InputWidth, a.OutputWidth);
        var total = dinput.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / inputWidth;
            var c = (int)(item - row * inputWidth);
            var w = row / a.Rows * a.ParameterCount + a.Weight + c;
            var sum = 0.0f;
            for (var o = 0; o < outputWidth; o++) sum += dout[row * outputWidth + o] * parameters[w + (long)o * inputWidth];
            dinput[item] = sum;
        }
    }

    /// <summary>
    /// dW[r][o][c] = Σ_n dout[r][n][o]·in[r][n][c] and, in an extra column c = C, dbias[r][o] = Σ_n dout[r][n][o]
    /// (double sums over the N = B·T rows); overwrites. Items: R·OC·(C + 1), or R·OC·C without a bias.
    /// </summary>
    public static void BackwardWeight(Index1D thread, MatMulBackwardArgs a, int stride)
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
            var first = r * a.Rows;
            if (c == inputWidth)
            {
                for (long n = first; n < first + a.Rows; n++) sum += dout[n * outputWidth + o];
                gradients[r * a.ParameterCount + a.Bias + o] = (float)sum;
            }
            else
            {
                for (long n = first; n < first + a.Rows; n++) sum += dout[n * outputWidth + o] * input[n * inputWidth + c];
                gradients[r * a.ParameterCount + a.Weight + (long)o * inputWidth + c] = (float)sum;
            }
        }
    }
}

/// <summary>
/// GPU-shaped matrix products for the LM, the replicated nn.Linear of <see cref="MatMulKernels"/> as explicitly
/// grouped kernels. A group of TX × TY threads computes a tile of TM = 4·TY rows × TN = 4·TX output columns, each
/// thread a 4 × 4 register block (rows ty + i·TY, columns tx + j·TX, so that for a fixed j consecutive lanes
/// write consecutive addresses). The reduction runs in chunks of <see cref="Chunk"/>: each chunk of both operands
/// is staged in shared memory with consecutive lanes reading consecutive global addresses (whichever of the
/// operand's two indices is the contiguous one), padded by one float a row so that neither the stores nor the
/// register-block reads conflict on banks. Group shapes come from <see cref="ForwardConfig"/> and
/// <see cref="BackwardConfig"/> (2-D groups: the kernels read TX and TY from Group.DimX and Group.DimY) and adapt
/// to the accelerator's group limit (ILGPU's CPU accelerator: 16 threads, 16 × 16 tiles; CUDA and PoCL: 256
/// threads, up to 64 × 64, narrower when the problem is).
/// </summary>
/// <remarks>
/// Accumulation is float, in two levels: each thread sums a chunk of <see cref="Chunk"/> products into fresh
/// registers and adds that partial to its running sum, so a sum of n terms carries rounding of order
/// (Chunk + n/Chunk)·ε rather than n·ε, for 1/32 more adds. Measured on the weight gradient's sum over N = 4,096
/// rows (inputs and gradients uniform, then shifted by 1 so the sums grow with N): 5e-7 of the tensor's largest
/// element from float64, against 2.9e-6 with one float sum (the plain kernel sums in double). Double
/// accumulators would cost most of a consumer GPU's throughput (FP64 at 1/32–1/64 rate) for no needed accuracy.
/// </remarks>
static class TiledMatMulKernels
{
    /// <summary>Reduction chunk staged in shared memory per step (128 bytes of a row: a coalesced segment).</summary>
    public const int Chunk = 32;

    /// <summary>Shared stride of a staged chunk row: one float of padding.</summary>
    const int ChunkStride = Chunk + 1;

    /// <summary>Register block of every thread: 4 rows × 4 columns.</summary>
    public const int Block = 4;

    /// <summary>The widest row the LayerNorm prologue serves: the tile's full rows of s live in shared memory.</summary>
    public const int MaxNormWidth = 1024;

    /// <summary>
    /// Shared memory of every group, a static allocation: 32 KB, room for the largest pair of chunk tiles
    /// ((TM + TN)·33 ≤ 160·33 floats) and for the prologue's full rows (the config picks TM to fit). Static, not
    /// dynamic: ILGPU 1.5.3's OpenCL backend keeps the dynamic buffer's address in a program-scope variable that
    /// every work-group assigns, so on PoCL, whose work-groups run at once on several threads with their local
    /// memory at different addresses, groups read each other's tiles (seen: 1–7 % of runs wrong).
    /// </summary>
    public const int SharedFloats = 8192;

    /// <summary>Largest threads per group used (16 × 16), and per dimension (tiles up to 128 rows or columns).</summary>
    public const int MaxGroup = 256;

    const int MaxSide = 32;

    // ------------------------------------------------------------------ forward

    /// <summary>
    /// The forward product, optionally with the LayerNorm prologue and the GELU epilogue (see
    /// <see cref="MatMulForwardArgs"/>). Launch with <see cref="ForwardConfig"/>. Groups are (replicate, row
    /// tile, column tile), the column tile fastest. With the prologue each group stages its TM full rows of s,
    /// takes every row's mean and then centred variance (as <see cref="LayerNormKernels.Forward"/>: float,
    /// eps 1e-5; a row's sums split over TX/4 threads, the partials then added in order, so with TX = 4, as on
    /// ILGPU's CPU accelerator, in LayerNormKernels' order exactly) and normalizes in shared memory; the groups of
    /// column tile 0 alone write Sum, Normalized, Mean and Rstd.
    /// </summary>
    public static void Forward(MatMulForwardArgs a)
    {
        var shared = SharedMemory.Allocate<float>(SharedFloats);
        var (tileRows, tileColumns) = (Block * Group.DimY, Block * Group.DimX);
        var tiles = (long)a.Replicates * ((a.Rows + tileRows - 1) / tileRows) * ((a.OutputWidth + tileColumns - 1) / tileColumns);
        // Grid-stride over the tiles: one tile per group on a GPU, a few groups looping on a CPU device.
        for (long g = Grid.IdxX; g < tiles; g += Grid.DimX)
        {
            ForwardTile(a, g, shared);
            Group.Barrier(); // the next tile restages the operands
        }
    }

    static void ForwardTile(MatMulForwardArgs a, long g, ArrayView<float> shared)
    {
        var (tx, ty, width, height) = (Group.IdxX, Group.IdxY, Group.DimX, Group.DimY);
        var (lane, size) = (ty * width + tx, width * height);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var (k, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var columnTiles = (oc + tileColumns - 1) / tileColumns;
        var rowTiles = (n + tileRows - 1) / tileRows;
        var columnTile = (int)(g % columnTiles);
        var rowTile = g / columnTiles % rowTiles;
        var r = g / columnTiles / rowTiles;
        var (m0, n0) = (rowTile * tileRows, columnTile * tileColumns);
        var first = r * n; // the replicate's first row
        var p = r * a.ParameterCount;
        var norm = a.NormWeight >= 0;
        var aStride = norm ? k + 1 : ChunkStride;
        var aTile = shared.SubView(0, (long)tileRows * aStride);
        var wTile = shared.SubView((long)tileRows * aStride, (long)tileColumns * ChunkStride);

        // Without the prologue its phases run over zero rows, so every barrier is met outside any branch (PoCL's
        // compiled kernel crashed on barriers inside the group-uniform `if (norm)`, at groups of 4 threads or more).
        var normRows = norm ? tileRows : 0;
        var owner = columnTile == 0;
        var hasAddend = a.Addend.Length > 0;
        // After the two tiles: mean and rstd of each row [2][TM], then the row sums' partials [TM][split]
        // (offsets, not views: without the prologue they lie at the end of the buffer).
        var stats = tileRows * aStride + tileColumns * ChunkStride;
        var partials = stats + 2 * normRows;
        var split = Math.Max(1, size / tileRows); // threads per row for the row sums
        for (var e = lane; e < normRows * k; e += size)
        {
            var m = e / k;
            var c = e - m * k;
            var row = m0 + m;
            var v = 0.0f;
            if (row < n)
            {
                var at = (first + row) * k + c;
                v = a.Input[at];
                if (hasAddend)
                {
                    v += a.Addend[at];
                    if (owner) a.Sum[at] = v;
                }
            }
            aTile[m * aStride + c] = v;
        }
        Group.Barrier();
        RowSums(shared, aStride, partials, stats, normRows, split, k, lane, size, false);
        Group.Barrier();
        for (var m = lane; m < normRows; m += size)
        {
            var sum = 0.0f;
            for (var q = 0; q < split; q++) sum += shared[partials + m * split + q];
            shared[stats + m] = sum / k;
        }
        Group.Barrier();
        RowSums(shared, aStride, partials, stats, normRows, split, k, lane, size, true);
        Group.Barrier();
        for (var m = lane; m < normRows; m += size)
        {
            var variance = 0.0f;
            for (var q = 0; q < split; q++) variance += shared[partials + m * split + q];
            var s = 1.0f / MathF.Sqrt(variance / k + LayerNormKernels.Epsilon);
            shared[stats + normRows + m] = s;
            var row = m0 + m;
            if (owner && row < n)
            {
                a.Mean[first + row] = shared[stats + m];
                a.Rstd[first + row] = s;
            }
        }
        Group.Barrier();
        var (w, b) = (p + a.NormWeight, p + a.NormBias);
        for (var e = lane; e < normRows * k; e += size)
        {
            var m = e / k;
            var c = e - m * k;
            var v = (aTile[m * aStride + c] - shared[stats + m]) * shared[stats + normRows + m] * a.Parameters[w + c] + a.Parameters[b + c];
            aTile[m * aStride + c] = v;
            var row = m0 + m;
            if (owner && row < n) a.Normalized[(first + row) * k + c] = v;
        }
        Group.Barrier();

        var input = new Operand(a.Input, first * k, k, 1, n, -1);
        var weights = new Operand(a.Parameters, p + a.Weight, k, 1, oc, -1);
        var acc = Product(aTile, aStride, norm, wTile, input, weights, k, m0, n0, tileRows, tileColumns, tx, ty, width, height, lane, size);

        var activate = a.Activated.Length > 0;
        for (var i = 0; i < Block; i++)
        {
            var row = m0 + ty + i * height;
            if (row >= n) break;
            for (var j = 0; j < Block; j++)
            {
                var o = n0 + tx + j * width;
                if (o >= oc) break;
                var v = acc.At(i, j);
                if (a.Bias >= 0) v += a.Parameters[p + a.Bias + o];
                var at = (first + row) * oc + o;
                a.Output[at] = v;
                if (activate) a.Activated[at] = GeluKernels.Gelu(v);
            }
        }
    }

    /// <summary>
    /// Partial sums of each staged row (split threads a row, thread q summing elements q, q + split, …): of the
    /// values, or with <paramref name="centred"/> of (value − stats[row])².
    /// </summary>
    static void RowSums(ArrayView<float> shared, int stride, int partials, int stats, int count, int split,
        int k, int lane, int size, bool centred)
    {
        for (var t = lane; t < count * split; t += size)
        {
            var m = t / split;
            var q = t - m * split;
            var mean = centred ? shared[stats + m] : 0.0f;
            var sum = 0.0f;
            for (var c = q; c < k; c += split)
            {
                var v = shared[m * stride + c];
                if (centred)
                {
                    var d = v - mean;
                    sum += d * d;
                }
                else sum += v;
            }
            shared[partials + t] = sum;
        }
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// Both gradients of the product in one launch (see <see cref="MatMulBackwardArgs"/>); launch with
    /// <see cref="BackwardConfig"/>. Groups [0, G1) are tiles (replicate, row tile, input-column tile) of
    /// dinput = dout·W, with the GELU-backward epilogue when GeluInput is given; groups [G1, G1 + G2) are tiles
    /// (replicate, output tile, input-column tile) of dW = doutᵀ·input, the bias gradient as one more input
    /// column of ones (so the tile holding column InputWidth sums dout over the rows).
    /// </summary>
    public static void Backward(MatMulBackwardArgs a)
    {
        var shared = SharedMemory.Allocate<float>(SharedFloats);
        var (tileRows, tileColumns) = (Block * Group.DimY, Block * Group.DimX);
        var tiles = InputGroups(a.Replicates, a.Rows, a.InputWidth, tileRows, tileColumns) + WeightGroups(a, tileRows, tileColumns);
        for (long g = Grid.IdxX; g < tiles; g += Grid.DimX)
        {
            BackwardTile(a, g, shared);
            Group.Barrier(); // the next tile restages the operands
        }
    }

    static void BackwardTile(MatMulBackwardArgs a, long tile, ArrayView<float> shared)
    {
        var (tx, ty, width, height) = (Group.IdxX, Group.IdxY, Group.DimX, Group.DimY);
        var (lane, size) = (ty * width + tx, width * height);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var (c, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var aTile = shared.SubView(0, (long)tileRows * ChunkStride);
        var bTile = shared.SubView((long)tileRows * ChunkStride, (long)tileColumns * ChunkStride);
        var inputGroups = InputGroups(a.Replicates, n, c, tileRows, tileColumns);
        var g = tile;
        var isInput = g < inputGroups;
        if (!isInput) g -= inputGroups;
        var hasBias = a.Bias >= 0;
        // The input-gradient tile: rows n, columns c < C, reduction over o. The weight-gradient tile: rows o, columns
        // c ≤ C (C the bias's column of ones), reduction over the N rows.
        var (rows, columns) = isInput ? (n, c) : (oc, hasBias ? c + 1 : c);
        var columnTiles = (columns + tileColumns - 1) / tileColumns;
        var rowTiles = (rows + tileRows - 1) / tileRows;
        var columnTile = (int)(g % columnTiles);
        var rowTile = g / columnTiles % rowTiles;
        var r = g / columnTiles / rowTiles;
        var (m0, n0) = (rowTile * tileRows, columnTile * tileColumns);
        var first = r * n;
        var p = r * a.ParameterCount;
        // Input gradient: A (row, o) = dout[row][o]; B (c, o) = W[o][c], contiguous along c.
        // Weight gradient: A (o, row) = dout[row][o], contiguous along o; B (c, row) = input[row][c], contiguous along c.
        var left = isInput ? new Operand(a.Dout, first * oc, oc, 1, n, -1) : new Operand(a.Dout, first * oc, 1, oc, oc, -1);
        var right = isInput ? new Operand(a.Parameters, p + a.Weight, 1, c, c, -1) : new Operand(a.Input, first * c, 1, c, columns, hasBias ? c : -1);
        // One call for both kinds of group, so that every barrier is met outside any branch.
        var acc = Product(aTile, ChunkStride, false, bTile, left, right, isInput ? oc : n, m0, n0, tileRows, tileColumns, tx, ty, width, height, lane, size);
        var gelu = a.GeluInput.Length > 0;
        for (var i = 0; i < Block; i++)
        {
            var row = m0 + ty + i * height;
            if (row >= rows) break;
            for (var j = 0; j < Block; j++)
            {
                var column = n0 + tx + j * width;
                if (column >= columns) break;
                var v = acc.At(i, j);
                if (isInput)
                {
                    var at = (first + row) * c + column;
                    if (gelu) v = GeluKernels.Derivative(a.GeluInput[at]) * v;
                    a.Dinput[at] = v;
                }
                else a.Gradients[column < c ? p + a.Weight + row * c + column : p + a.Bias + row] = v;
            }
        }
    }

    static long InputGroups(int replicates, long rows, int inputWidth, int tileRows, int tileColumns) =>
        replicates * ((rows + tileRows - 1) / tileRows) * ((inputWidth + tileColumns - 1) / tileColumns);

    static long WeightGroups(in MatMulBackwardArgs a, int tileRows, int tileColumns)
    {
        var columns = a.Bias >= 0 ? a.InputWidth + 1 : a.InputWidth;
        return (long)a.Replicates * ((a.OutputWidth + tileRows - 1) / tileRows) * ((columns + tileColumns - 1) / tileColumns);
    }

    // ------------------------------------------------------------------ the shared tile product

    /// <summary>
    /// One operand of a tile product: element (index, k) at View[Base + index·Stride + k·KStride], present for
    /// index &lt; Count; the index <see cref="Ones"/> (≥ 0) reads as 1 (the bias gradient's column of ones).
    /// </summary>
    readonly struct Operand(ArrayView<float> view, long start, long stride, long kStride, long count, long ones)
    {
        public readonly ArrayView<float> View = view;
        public readonly long Base = start, Stride = stride, KStride = kStride, Count = count, Ones = ones;
    }

    /// <summary>
    /// Stages rows [first, first + rows) × reduction [k0, k0 + kc) of <paramref name="op"/> into
    /// tile[row·ChunkStride + kk], zeros outside. Consecutive lanes take consecutive global addresses: along k
    /// when KStride is 1, else along the index (then Stride is 1 in every caller).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Stage(ArrayView<float> tile, Operand op, long first, int rows, long k0, int kc, int lane, int size)
    {
        var alongK = op.KStride == 1;
        for (var e = lane; e < rows * Chunk; e += size)
        {
            int m, kk;
            if (alongK)
            {
                m = e / Chunk;
                kk = e - m * Chunk;
            }
            else
            {
                kk = e / rows;
                m = e - kk * rows;
            }
            var index = first + m;
            var v = 0.0f;
            if (index < op.Count && kk < kc)
                v = index == op.Ones ? 1.0f : op.View[op.Base + index * op.Stride + (k0 + kk) * op.KStride];
            tile[m * ChunkStride + kk] = v;
        }
    }

    /// <summary>
    /// The group's tile of Σ_k A(row, k)·B(column, k) over k &lt; <paramref name="k"/>, rows from m0 and columns
    /// from n0: each thread's 4 × 4 block (rows ty + i·height, columns tx + j·width). With
    /// <paramref name="aStaged"/>, A's rows already sit in aTile in full (row stride aStride, the LayerNorm
    /// prologue's), else A is staged a chunk at a time like B. Every thread of the group must call it.
    /// </summary>
    static Accumulator Product(ArrayView<float> aTile, int aStride, bool aStaged, ArrayView<float> bTile, Operand a, Operand b, long k,
        long m0, long n0, int tileRows, int tileColumns, int tx, int ty, int width, int height, int lane, int size)
    {
        var total = default(Accumulator);
        for (long k0 = 0; k0 < k; k0 += Chunk)
        {
            var kc = (int)Math.Min(Chunk, k - k0);
            if (!aStaged) Stage(aTile, a, m0, tileRows, k0, kc, lane, size);
            Stage(bTile, b, n0, tileColumns, k0, kc, lane, size);
            Group.Barrier();
            var offset = aStaged ? (int)k0 : 0;
            var (a0, a1, a2, a3) = (ty * aStride + offset, (ty + height) * aStride + offset, (ty + 2 * height) * aStride + offset, (ty + 3 * height) * aStride + offset);
            var (b0, b1, b2, b3) = (tx * ChunkStride, (tx + width) * ChunkStride, (tx + 2 * width) * ChunkStride, (tx + 3 * width) * ChunkStride);
            var chunk = default(Accumulator);
            for (var kk = 0; kk < kc; kk++)
                chunk.Add(aTile[a0 + kk], aTile[a1 + kk], aTile[a2 + kk], aTile[a3 + kk], bTile[b0 + kk], bTile[b1 + kk], bTile[b2 + kk], bTile[b3 + kk]);
            total.Add(chunk);
            Group.Barrier();
        }
        return total;
    }

    /// <summary>A thread's 4 × 4 register block, row i column j in Cij.</summary>
    struct Accumulator
    {
        float c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
        {
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Accumulator o)
        {
            c00 += o.c00; c01 += o.c01; c02 += o.c02; c03 += o.c03;
            c10 += o.c10; c11 += o.c11; c12 += o.c12; c13 += o.c13;
            c20 += o.c20; c21 += o.c21; c22 += o.c22; c23 += o.c23;
            c30 += o.c30; c31 += o.c31; c32 += o.c32; c33 += o.c33;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float At(int i, int j) => (i * Block + j) switch
        {
            0 => c00, 1 => c01, 2 => c02, 3 => c03,
            4 => c10, 5 => c11, 6 => c12, 7 => c13,
            8 => c20, 9 => c21, 10 => c22, 11 => c23,
            12 => c30, 13 => c31, 14 => c32, _ => c33,
        };
    }

    // ------------------------------------------------------------------ launch shapes

    /// <summary>
    /// Threads per group dimension: TX (columns) and TY (rows) powers of two, TX·TY ≤ min(256, the accelerator's
    /// limit), TX ≈ TY, neither above 32 nor wider than the problem needs (OC = 27 gets TX = 8, N = 1 gets TY = 1).
    /// </summary>
    static (int Width, int Height) Shape(Accelerator accelerator, long rows, long columns, int groupLimit)
    {
        // By default one thread per group on ILGPU's CPU accelerator, where a group's barriers are thread switches
        // (16-thread groups ran 10-20× slower than the plain kernels there), else up to MaxGroup.
        if (groupLimit <= 0) groupLimit = accelerator.AcceleratorType == AcceleratorType.CPU ? 1 : MaxGroup;
        var limit = FloorPow2(Math.Min(groupLimit, accelerator.MaxNumThreadsPerGroup));
        var width = 1;
        while (width * width < limit) width *= 2;
        width = Math.Min(width, Math.Min(MaxSide, CeilPow2((columns + Block - 1) / Block)));
        var height = Math.Min(limit / width, Math.Min(MaxSide, CeilPow2((rows + Block - 1) / Block)));
        return (width, height);
    }

    static int FloorPow2(long x)
    {
        var p = 1;
        while (2L * p <= x) p *= 2;
        return p;
    }

    static int CeilPow2(long x)
    {
        var p = 1;
        while (p < x) p *= 2;
        return p;
    }

    /// <summary>
    /// Groups to launch for <paramref name="tiles"/> tiles: one each on a GPU or an OpenCL device; on ILGPU's CPU
    /// accelerator, which pays per group, four per core, each looping over its share of the tiles.
    /// </summary>
    static int Groups(Accelerator accelerator, long tiles)
    {
        if (accelerator.AcceleratorType == AcceleratorType.CPU) tiles = Math.Min(tiles, 4L * Environment.ProcessorCount);
        return tiles <= int.MaxValue ? (int)Math.Max(1, tiles) : throw new ArgumentException($"{tiles} tiles are more groups than one launch holds");
    }

    /// <summary>
    /// The launch of <see cref="Forward"/>: groups (TX, TY) as <see cref="Shape"/> picks, fewer rows (TY smaller)
    /// with the LayerNorm prologue so that TM full rows of InputWidth + 1 floats fit <see cref="SharedFloats"/>
    /// memory beside the weight chunk; one group per (replicate, row tile, column tile).
    /// </summary>
    public static KernelConfig ForwardConfig(Accelerator accelerator, in MatMulForwardArgs a, int groupLimit = 0)
    {
        var norm = a.NormWeight >= 0;
        if (norm && a.InputWidth > MaxNormWidth)
            throw new ArgumentException($"the LayerNorm prologue serves rows up to {MaxNormWidth} wide, not {a.InputWidth}");
        if (norm && (a.Mean.Length < a.Replicates * a.Rows || a.Rstd.Length < a.Replicates * a.Rows || a.Normalized.Length < a.Input.Length))
            throw new ArgumentException("the LayerNorm prologue writes Normalized, Mean and Rstd: give all three");
        if (a.Addend.Length > 0 && (!norm || a.Sum.Length < a.Input.Length))
            throw new ArgumentException("an Addend needs the LayerNorm prologue and a Sum view");
        var (width, height) = Shape(accelerator, a.Rows, a.OutputWidth, groupLimit);
        int floats;
        while (true)
        {
            var (tileRows, tileColumns) = (Block * height, Block * width);
            floats = norm
                ? tileRows * (a.InputWidth + 1) + tileColumns * ChunkStride + 2 * tileRows + tileRows * Math.Max(1, width * height / tileRows)
                : (tileRows + tileColumns) * ChunkStride;
            if (floats <= SharedFloats) break;
            if (height > 1) height /= 2;
            else width /= 2; // K near MaxNormWidth: 4 rows, and fewer columns beside them
        }
        var groups = (long)a.Replicates * ((a.Rows + Block * height - 1) / (Block * height)) * ((a.OutputWidth + Block * width - 1) / (Block * width));
        return new KernelConfig(new Index3D(Groups(accelerator, groups), 1, 1), new Index3D(width, height, 1));
    }

    /// <summary>
    /// The launch of <see cref="Backward"/>: one group shape for both parts (from the larger of Rows and
    /// OutputWidth and from InputWidth + 1), G1 input-gradient tiles then G2 weight-gradient tiles.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in MatMulBackwardArgs a, int groupLimit = 0)
    {
        var (width, height) = Shape(accelerator, Math.Max(a.Rows, a.OutputWidth), a.Bias >= 0 ? a.InputWidth + 1 : a.InputWidth, groupLimit);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var groups = InputGroups(a.Replicates, a.Rows, a.InputWidth, tileRows, tileColumns) + WeightGroups(a, tileRows, tileColumns);
        return new KernelConfig(new Index3D(Groups(accelerator, groups), 1, 1), new Index3D(width, height, 1));
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
        int replicates, long rowsPerReplicate, int inputWidth, int outputWidth, ArrayView<float> activated = default) =>
        matMulForwardOp(new MatMulForwardArgs
        {
            Input = input, Parameters = p.View, ParameterCount = p.Count, Weight = weight, Bias = bias, NormWeight = -1, NormBias = -1,
            Output = output, Activated = activated, Replicates = replicates, Rows = rowsPerReplicate, InputWidth = inputWidth, OutputWidth = outputWidth,
        });

    /// <summary>
    /// The block's LayerNorm and the product after it: with <paramref name="branch"/> non-empty, sum = stream + branch
    /// (the residual add) is normalized, else stream itself; normalized, mean and rstd are kept for backward; then
    /// output = normalized·Wᵀ + bias and, with <paramref name="activated"/> non-empty, gelu of it.
    /// </summary>
    public void NormMatMulForward(ArrayView<float> stream, ArrayView<float> branch, ArrayView<float> sum, ReplicatedParameters p,
        long normWeight, long normBias, ArrayView<float> normalized, ArrayView<float> mean, ArrayView<float> rstd, long weight, long bias,
        ArrayView<float> output, int replicates, long rowsPerReplicate, int width, int outputWidth, ArrayView<float> activated = default) =>
        matMulForwardOp(new MatMulForwardArgs
        {
            Input = stream, Addend = branch, Sum = sum, Parameters = p.View, ParameterCount = p.Count, Weight = weight, Bias = bias,
            NormWeight = normWeight, NormBias = normBias, Normalized = normalized, Mean = mean, Rstd = rstd, Output = output, Activated = activated,
            Replicates = replicates, Rows = rowsPerReplicate, InputWidth = width, OutputWidth = outputWidth,
        });

    /// <summary>
    /// dinput = dout·W (overwrites), times gelu'(geluInput) when <paramref name="geluInput"/> is non-empty (the
    /// MLP's GELU backward); dW = doutᵀ·input and dbias = Σ dout (overwrite).
    /// </summary>
    public void MatMulBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> dinput, ReplicatedParameters gradients, int replicates, long rowsPerReplicate, int inputWidth, int outputWidth,
        ArrayView<float> geluInput = default) =>
        matMulBackwardOp(new MatMulBackwardArgs
        {
            Dout = dout, Input = input, Parameters = p.View, Dinput = dinput, GeluInput = geluInput, Gradients = gradients.View,
            ParameterCount = p.Count, Weight = weight, Bias = bias, Replicates = replicates, Rows = rowsPerReplicate,
            InputWidth = inputWidth, OutputWidth = outputWidth,
        });

    void MatMulForwardCpu(MatMulForwardArgs a) => MatMulForwardStepwise(a, MatMulProductCpu);

    void MatMulForwardPlain(MatMulForwardArgs a) => MatMulForwardStepwise(a, b => Launch(matMulForward, b.Output.Length, b));

    /// <summary>The CPU and plain versions of the fused forward: the residual add, the LayerNorm, the product and the GELU one after another.</summary>
    void MatMulForwardStepwise(MatMulForwardArgs a, Action<MatMulForwardArgs> product)
    {
        var input = a.Input;
        var p = new ReplicatedParameters(a.Parameters, a.ParameterCount);
        if (a.NormWeight >= 0)
        {
            if (a.Addend.Length > 0)
            {
                ResidualForward(a.Input, a.Addend, a.Sum);
                input = a.Sum;
            }
            LayerNormForward(input, p, a.NormWeight, a.NormBias, a.Normalized, a.Mean, a.Rstd, a.Rows, a.InputWidth);
            input = a.Normalized;
        }
        product(a with { Input = input });
        if (a.Activated.Length > 0) GeluForward(a.Output, a.Activated);
    }

    void MatMulForwardShaped(MatMulForwardArgs a)
    {
        if (a.NormWeight >= 0 && a.InputWidth > TiledMatMulKernels.MaxNormWidth)
        {
            MatMulForwardPlain(a); // rows too wide for the prologue's shared memory
            return;
        }
        tiledMatMulForward(TiledMatMulKernels.ForwardConfig(accelerator, a), a);
    }

    /// <summary>The product alone on the CPU path: register-blocked AVX2 over (replicate, block of rows) work items.</summary>
    void MatMulProductCpu(MatMulForwardArgs a)
    {
        accelerator.Synchronize();
        float* x = Ptr(a.Input), w = Ptr(a.Parameters), y = Ptr(a.Output);
        var (count, rowsPerReplicate, inputWidth, outputWidth, weight, bias) = (a.ParameterCount, a.Rows, a.InputWidth, a.OutputWidth, a.Weight, a.Bias);
        var blocks = RowBlocks(a.Replicates, rowsPerReplicate);
        Parallel.For(0, (long)a.Replicates * blocks, CpuParallel.OneWorkerPerCore, item =>
        {
            var r = item / blocks;
            var (first, rows) = Block(item % blocks, blocks, rowsPerReplicate);
            var transposed = (float*)Unsafe.AsPointer(ref ThreadScratch.Floats((long)inputWidth * outputWidth)[0]);
            MatMulCpu.Forward(x + (r * rowsPerReplicate + first) * inputWidth, w + r * count + weight,
                bias >= 0 ? w + r * count + bias : null, y + (r * rowsPerReplicate + first) * outputWidth, rows, inputWidth, outputWidth, transposed);
        });
    }

    void MatMulBackwardCpu(MatMulBackwardArgs a) => MatMulBackwardStepwise(a, MatMulGradientsCpu);

    void MatMulBackwardPlain(MatMulBackwardArgs a) => MatMulBackwardStepwise(a, b =>
    {
        Launch(matMulBackwardInput, b.Dinput.Length, b);
        Launch(matMulBackwardWeight, (long)b.Replicates * b.OutputWidth * (b.Bias >= 0 ? b.InputWidth + 1 : b.InputWidth), b);
    });

    /// <summary>The CPU and plain versions of the backward: the two products, then the GELU's backward in place.</summary>
    void MatMulBackwardStepwise(MatMulBackwardArgs a, Action<MatMulBackwardArgs> products)
    {
        products(a);
        if (a.GeluInput.Length > 0) GeluBackward(a.GeluInput, a.Dinput, a.Dinput);
    }

    void MatMulBackwardShaped(MatMulBackwardArgs a) => tiledMatMulBackward(TiledMatMulKernels.BackwardConfig(accelerator, a), a);

    /// <summary>Both gradients on the CPU path: (replicate, block of rows) items of each product.</summary>
    void MatMulGradientsCpu(MatMulBackwardArgs a)
    {
        accelerator.Synchronize();
        float* dy = Ptr(a.Dout), x = Ptr(a.Input), w = Ptr(a.Parameters), dx = Ptr(a.Dinput), g = Ptr(a.Gradients);
        var (count, rowsPerReplicate, inputWidth, outputWidth, weight, bias) = (a.ParameterCount, a.Rows, a.InputWidth, a.OutputWidth, a.Weight, a.Bias);
        var rowBlocks = RowBlocks(a.Replicates, rowsPerReplicate);
        var outputBlocks = RowBlocks(a.Replicates, outputWidth);
        // Work items: (replicate, block of input-gradient rows), then (replicate, block of weight-gradient rows).
        Parallel.For(0, (long)a.Replicates * (rowBlocks + outputBlocks), CpuParallel.OneWorkerPerCore, item =>
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
