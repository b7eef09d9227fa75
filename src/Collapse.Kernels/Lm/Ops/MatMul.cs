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
// product (MatMulCpu), and the shaped version's: tiled kernels for GPUs (TiledMatMulKernels), and
// register-blocked grid-stride kernels without shared memory for CPU devices (BlockedMatMulKernels).

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

    /// <summary>Throws unless the views the prologue writes are all given (the launchers' check).</summary>
    internal readonly void CheckFusions()
    {
        var norm = NormWeight >= 0;
        if (norm && (Mean.Length < Replicates * Rows || Rstd.Length < Replicates * Rows || Normalized.Length < Input.Length))
            throw new ArgumentException("the LayerNorm prologue writes Normalized, Mean and Rstd: give all three");
        if (Addend.Length > 0 && (!norm || Sum.Length < Input.Length))
            throw new ArgumentException("an Addend needs the LayerNorm prologue and a Sum view");
    }
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
        a.CheckFusions();
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
/// The shaped matrix products for CPU devices: the products of <see cref="TiledMatMulKernels"/>, with the same fusions
/// (the residual add and LayerNorm before the forward, GELU after it, GELU's backward after the input gradient, both
/// gradients in one launch), as grid-stride kernels without shared memory or barriers. ILGPU's CPU accelerator runs a
/// group's threads as OS threads, so there a barrier is a thread switch and a staged tile one more copy through memory
/// that the CPU's caches already hold (the tiled kernels ran 1.1–1.8× slower than the plain ones). Here each item is a
/// block of <see cref="Rows"/> × <see cref="Columns"/> outputs summed in registers, both operands read straight from
/// global memory: 12 loads for 32 multiply-adds, against the plain kernels' 64.
/// </summary>
/// <remarks>
/// Every output sees the plain kernels' operations in their order (the forward's and the input gradient's float sums
/// from the bias or 0, the weight and bias gradients' double sums over the rows, the residual add and the LayerNorm as
/// <see cref="ResidualKernels"/> and <see cref="LayerNormKernels.Forward"/>, GELU and its derivative as
/// <see cref="GeluKernels"/>), so where both are compiled alike (ILGPU's CPU accelerator: .NET's JIT, which contracts
/// no multiply-adds) the bits are the plain kernels'. Block edges clamp the operand rows they read (the last row is read
/// again) and store only the outputs that exist, so no branch sits in the inner loop.
/// </remarks>
static class BlockedMatMulKernels
{
    /// <summary>Output rows of a block (the forward's and the input gradient's rows; the weight gradient's output units).</summary>
    public const int Rows = 4;

    /// <summary>Output columns of a block. 4 × 8 sums and 12 operands fit x64's registers; a struct of 32 fields did not (slower).</summary>
    public const int Columns = 8;

    /// <summary>
    /// Whether the shaped version runs these products rather than the tiled ones: on CPU devices, ILGPU's CPU accelerator
    /// and OpenCL devices that are not GPUs (PoCL: its makemore training step ran 1.4–1.5× faster with these than with the
    /// tiled ones, tiny's 1.8×, sampling 1.45×, side by side on 2 cores).
    /// </summary>
    public static bool Serves(Accelerator accelerator) => !Accelerators.LaunchSize.IsGpu(accelerator);

    /// <summary>
    /// Threads a group for these kernels: one on an OpenCL device, 0 (ILGPU's choice) on the CPU accelerator. PoCL runs a
    /// work-group on one core, and ILGPU's automatic groups put a launch of up to thousands of threads in one: the blocked
    /// forward of 128 rows ran 1.85× faster on 2 cores in groups of one (groups of 4 and 16 ran no faster than 1: a block
    /// is too much work per work-item for PoCL to vectorize across them).
    /// </summary>
    public static int GroupSize(Accelerator accelerator) => accelerator.AcceleratorType == AcceleratorType.OpenCL ? 1 : 0;

    static long Blocks(long count, int size) => (count + size - 1) / size;

    // ------------------------------------------------------------------ forward

    /// <summary>
    /// Items of <see cref="Forward"/>: (replicate, block of 4 rows, block of 8 output columns); with the LayerNorm
    /// prologue (replicate, block of 4 rows) across the whole output width, so that the item normalizing its rows is the
    /// one that reads them back (its own writes, no barrier; the LayerNorm is done once a row).
    /// </summary>
    public static long ForwardItems(in MatMulForwardArgs a)
    {
        a.CheckFusions();
        return a.Replicates * Blocks(a.Rows, Rows) * (a.NormWeight >= 0 ? 1 : Blocks(a.OutputWidth, Columns));
    }

    /// <summary>The forward product, with the optional prologue and epilogue of <see cref="MatMulForwardArgs"/>. Items: <see cref="ForwardItems"/>.</summary>
    public static void Forward(Index1D thread, MatMulForwardArgs a, int stride)
    {
        var (n, oc) = (a.Rows, a.OutputWidth);
        var norm = a.NormWeight >= 0;
        var rowBlocks = Blocks(n, Rows);
        var columnBlocks = (int)Blocks(oc, Columns);
        var perRowBlock = norm ? 1 : columnBlocks; // items per block of rows
        var total = a.Replicates * rowBlocks * perRowBlock;
        for (long item = thread; item < total; item += stride)
        {
            var firstBlock = (int)(item % perRowBlock);
            var rowBlock = item / perRowBlock;
            var r = rowBlock / rowBlocks;
            var m0 = (rowBlock - r * rowBlocks) * Rows;
            var row = r * n + m0; // the block's first row, counted over all replicates
            var rows = (int)Math.Min(Rows, n - m0);
            var p = r * a.ParameterCount;
            var input = a.Input;
            if (norm)
            {
                for (var i = 0; i < rows; i++) Normalize(a, row + i, p);
                input = a.Normalized;
            }
            var lastBlock = norm ? columnBlocks : firstBlock + 1;
            for (var block = firstBlock; block < lastBlock; block++) ForwardBlock(a, input, row, rows, block * Columns, p);
        }
    }

    /// <summary>One row's residual add (into Sum) and LayerNorm (Normalized, Mean, Rstd), in the plain kernels' order.</summary>
    static void Normalize(in MatMulForwardArgs a, long row, long p)
    {
        var k = a.InputWidth;
        var x = row * k;
        var source = a.Input;
        if (a.Addend.Length > 0)
        {
            for (var c = 0; c < k; c++) a.Sum[x + c] = a.Input[x + c] + a.Addend[x + c];
            source = a.Sum;
        }
        var m = 0.0f;
        for (var c = 0; c < k; c++) m += source[x + c];
        m /= k;
        var variance = 0.0f;
        for (var c = 0; c < k; c++)
        {
            var d = source[x + c] - m;
            variance += d * d;
        }
        var s = 1.0f / MathF.Sqrt(variance / k + LayerNormKernels.Epsilon);
        var (w, b) = (p + a.NormWeight, p + a.NormBias);
        for (var c = 0; c < k; c++) a.Normalized[x + c] = (source[x + c] - m) * s * a.Parameters[w + c] + a.Parameters[b + c];
        a.Mean[row] = m;
        a.Rstd[row] = s;
    }

    /// <summary>Output rows [row, row + rows) × columns [o0, o0 + 8) of input·Wᵀ + bias, and gelu of them when asked.</summary>
    static void ForwardBlock(in MatMulForwardArgs a, ArrayView<float> input, long row, int rows, int o0, long p)
    {
        var k = a.InputWidth;
        var columns = Math.Min(Columns, a.OutputWidth - o0);
        var sink = new OutputSink(a.Output, a.Activated, a.OutputWidth, row, rows, o0, columns);
        var left = new Operand(input, row * k, k, 1, rows - 1);
        var right = new Operand(a.Parameters, p + a.Weight + (long)o0 * k, k, 1, columns - 1);
        var bias = p + a.Bias + o0;
        var hasBias = a.Bias >= 0;
        // The sums start from the bias, as the plain kernel's.
        Sum(ref sink, left, right, k,
            hasBias ? a.Parameters[bias] : 0.0f, hasBias ? a.Parameters[bias + Math.Min(1, columns - 1)] : 0.0f,
            hasBias ? a.Parameters[bias + Math.Min(2, columns - 1)] : 0.0f, hasBias ? a.Parameters[bias + Math.Min(3, columns - 1)] : 0.0f,
            hasBias ? a.Parameters[bias + Math.Min(4, columns - 1)] : 0.0f, hasBias ? a.Parameters[bias + Math.Min(5, columns - 1)] : 0.0f,
            hasBias ? a.Parameters[bias + Math.Min(6, columns - 1)] : 0.0f, hasBias ? a.Parameters[bias + Math.Min(7, columns - 1)] : 0.0f);
    }

    // ------------------------------------------------------------------ backward

    /// <summary>
    /// Items of <see cref="Backward"/>: input-gradient blocks (replicate, 4 rows, 8 input columns), then weight-gradient
    /// blocks (replicate, 4 output units, 8 input columns), then with a bias its blocks (replicate, 8 output units).
    /// </summary>
    public static long BackwardItems(in MatMulBackwardArgs a) =>
        InputItems(a) + WeightItems(a) + (a.Bias >= 0 ? a.Replicates * Blocks(a.OutputWidth, Columns) : 0);

    static long InputItems(in MatMulBackwardArgs a) => a.Replicates * Blocks(a.Rows, Rows) * Blocks(a.InputWidth, Columns);

    static long WeightItems(in MatMulBackwardArgs a) => a.Replicates * Blocks(a.OutputWidth, Rows) * Blocks(a.InputWidth, Columns);

    /// <summary>Both gradients in one launch (see <see cref="MatMulBackwardArgs"/>). Items: <see cref="BackwardItems"/>.</summary>
    public static void Backward(Index1D thread, MatMulBackwardArgs a, int stride)
    {
        var (inputItems, weightItems) = (InputItems(a), WeightItems(a));
        var total = BackwardItems(a);
        for (long item = thread; item < total; item += stride)
        {
            if (item < inputItems) InputBlock(a, item);
            else if (item < inputItems + weightItems) WeightBlock(a, item - inputItems);
            else BiasBlock(a, item - inputItems - weightItems);
        }
    }

    /// <summary>dinput = dout·W over a block of rows × input columns (the sum over o from 0), times gelu'(h) when asked.</summary>
    static void InputBlock(in MatMulBackwardArgs a, long item)
    {
        var (c, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var columnBlocks = Blocks(c, Columns);
        var rowBlocks = Blocks(n, Rows);
        var c0 = (int)(item % columnBlocks) * Columns;
        var rowBlock = item / columnBlocks;
        var r = rowBlock / rowBlocks;
        var m0 = (rowBlock - r * rowBlocks) * Rows;
        var row = r * n + m0;
        var rows = (int)Math.Min(Rows, n - m0);
        var columns = Math.Min(Columns, c - c0);
        var sink = new InputGradientSink(a.Dinput, a.GeluInput, c, row, rows, c0, columns);
        var dout = new Operand(a.Dout, row * oc, oc, 1, rows - 1);
        var weight = new Operand(a.Parameters, r * a.ParameterCount + a.Weight + c0, 1, c, columns - 1);
        Sum(ref sink, dout, weight, oc, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>dW = doutᵀ·input over a block of output units × input columns: double sums over the replicate's rows.</summary>
    static void WeightBlock(in MatMulBackwardArgs a, long item)
    {
        var (c, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var columnBlocks = Blocks(c, Columns);
        var unitBlocks = Blocks(oc, Rows);
        var c0 = (int)(item % columnBlocks) * Columns;
        var unitBlock = item / columnBlocks;
        var r = unitBlock / unitBlocks;
        var o0 = (int)(unitBlock - r * unitBlocks) * Rows;
        var units = Math.Min(Rows, oc - o0);
        var columns = Math.Min(Columns, c - c0);
        var sink = new WeightGradientSink(a.Gradients, r * a.ParameterCount + a.Weight, c, o0, units, c0, columns);
        var dout = new Operand(a.Dout, r * n * oc + o0, 1, oc, units - 1);
        var input = new Operand(a.Input, r * n * c + c0, 1, c, columns - 1);
        SumDouble(ref sink, dout, input, n);
    }

    /// <summary>dbias = Σ_n dout for 8 output units, in double as the plain kernel.</summary>
    static void BiasBlock(in MatMulBackwardArgs a, long item)
    {
        var (oc, n) = (a.OutputWidth, a.Rows);
        var unitBlocks = Blocks(oc, Columns);
        var r = item / unitBlocks;
        var o0 = (int)(item - r * unitBlocks) * Columns;
        var units = Math.Min(Columns, oc - o0);
        for (var j = 0; j < units; j++)
        {
            var sum = 0.0;
            for (long row = r * n; row < (r + 1) * n; row++) sum += a.Dout[row * oc + o0 + j];
            a.Gradients[r * a.ParameterCount + a.Bias + o0 + j] = (float)sum;
        }
    }

    // ------------------------------------------------------------------ the block product

    /// <summary>
    /// One operand of a block product: element (i, k) at View[Base + min(i, Last)·Stride + k·KStride], i the block's
    /// row (A) or column (B); rows past Last repeat it (block edges).
    /// </summary>
    readonly struct Operand(ArrayView<float> view, long start, long stride, long kStride, int last)
    {
        public readonly ArrayView<float> View = view;
        public readonly long Base = start, Stride = stride, KStride = kStride;
        public readonly int Last = last;

        public long At(int i) => Base + Math.Min(i, Last) * Stride;
    }

    /// <summary>Where a block's sums go: output (i, j) of the block, stored only when it exists.</summary>
    interface ISink
    {
        void Store(int i, int j, float value);
    }

    /// <summary>The forward's output and, when Activated is given, its GELU.</summary>
    readonly struct OutputSink(ArrayView<float> output, ArrayView<float> activated, int width, long row, int rows, int column, int columns) : ISink
    {
        public void Store(int i, int j, float value)
        {
            if (i >= rows || j >= columns) return;
            var at = (row + i) * width + column + j;
            output[at] = value;
            if (activated.Length > 0) activated[at] = GeluKernels.Gelu(value);
        }
    }

    /// <summary>The input gradient, times gelu'(h) when GeluInput is given (as <see cref="GeluKernels.Backward"/>).</summary>
    readonly struct InputGradientSink(ArrayView<float> dinput, ArrayView<float> geluInput, int width, long row, int rows, int column, int columns) : ISink
    {
        public void Store(int i, int j, float value)
        {
            if (i >= rows || j >= columns) return;
            var at = (row + i) * width + column + j;
            dinput[at] = geluInput.Length > 0 ? GeluKernels.Derivative(geluInput[at]) * value : value;
        }
    }

    /// <summary>dW[o][c] at an offset of the gradient vector.</summary>
    readonly struct WeightGradientSink(ArrayView<float> gradients, long weight, int width, int unit, int units, int column, int columns) : ISink
    {
        public void Store(int i, int j, float value)
        {
            if (i >= units || j >= columns) return;
            gradients[weight + (long)(unit + i) * width + column + j] = value;
        }
    }

    /// <summary>
    /// The 4 × 8 sums Σ_k A(i, k)·B(j, k) over k &lt; count, in float, output (i, j) starting from start_j, then stored.
    /// Locals, not an array or a struct, so that the JIT keeps all 32 in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Sum<TSink>(ref TSink sink, Operand a, Operand b, long count,
        float start0, float start1, float start2, float start3, float start4, float start5, float start6, float start7)
        where TSink : struct, ISink
    {
        var (av, bv) = (a.View, b.View);
        var (a0, a1, a2, a3) = (a.At(0), a.At(1), a.At(2), a.At(3));
        var (b0, b1, b2, b3, b4, b5, b6, b7) = (b.At(0), b.At(1), b.At(2), b.At(3), b.At(4), b.At(5), b.At(6), b.At(7));
        float s00 = start0, s01 = start1, s02 = start2, s03 = start3, s04 = start4, s05 = start5, s06 = start6, s07 = start7;
        float s10 = start0, s11 = start1, s12 = start2, s13 = start3, s14 = start4, s15 = start5, s16 = start6, s17 = start7;
        float s20 = start0, s21 = start1, s22 = start2, s23 = start3, s24 = start4, s25 = start5, s26 = start6, s27 = start7;
        float s30 = start0, s31 = start1, s32 = start2, s33 = start3, s34 = start4, s35 = start5, s36 = start6, s37 = start7;
        long ka = 0, kb = 0;
        for (long k = 0; k < count; k++, ka += a.KStride, kb += b.KStride)
        {
            float x0 = av[a0 + ka], x1 = av[a1 + ka], x2 = av[a2 + ka], x3 = av[a3 + ka];
            float y0 = bv[b0 + kb], y1 = bv[b1 + kb], y2 = bv[b2 + kb], y3 = bv[b3 + kb];
            float y4 = bv[b4 + kb], y5 = bv[b5 + kb], y6 = bv[b6 + kb], y7 = bv[b7 + kb];
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3; s04 += x0 * y4; s05 += x0 * y5; s06 += x0 * y6; s07 += x0 * y7;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3; s14 += x1 * y4; s15 += x1 * y5; s16 += x1 * y6; s17 += x1 * y7;
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3; s24 += x2 * y4; s25 += x2 * y5; s26 += x2 * y6; s27 += x2 * y7;
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3; s34 += x3 * y4; s35 += x3 * y5; s36 += x3 * y6; s37 += x3 * y7;
        }
        sink.Store(0, 0, s00); sink.Store(0, 1, s01); sink.Store(0, 2, s02); sink.Store(0, 3, s03);
        sink.Store(0, 4, s04); sink.Store(0, 5, s05); sink.Store(0, 6, s06); sink.Store(0, 7, s07);
        sink.Store(1, 0, s10); sink.Store(1, 1, s11); sink.Store(1, 2, s12); sink.Store(1, 3, s13);
        sink.Store(1, 4, s14); sink.Store(1, 5, s15); sink.Store(1, 6, s16); sink.Store(1, 7, s17);
        sink.Store(2, 0, s20); sink.Store(2, 1, s21); sink.Store(2, 2, s22); sink.Store(2, 3, s23);
        sink.Store(2, 4, s24); sink.Store(2, 5, s25); sink.Store(2, 6, s26); sink.Store(2, 7, s27);
        sink.Store(3, 0, s30); sink.Store(3, 1, s31); sink.Store(3, 2, s32); sink.Store(3, 3, s33);
        sink.Store(3, 4, s34); sink.Store(3, 5, s35); sink.Store(3, 6, s36); sink.Store(3, 7, s37);
    }

    /// <summary>
    /// <see cref="Sum{TSink}"/> from 0 in double, each float product widened before it is added (the plain weight
    /// gradient's order); on a CPU a double add costs what a float one does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SumDouble<TSink>(ref TSink sink, Operand a, Operand b, long count) where TSink : struct, ISink
    {
        var (av, bv) = (a.View, b.View);
        var (a0, a1, a2, a3) = (a.At(0), a.At(1), a.At(2), a.At(3));
        var (b0, b1, b2, b3, b4, b5, b6, b7) = (b.At(0), b.At(1), b.At(2), b.At(3), b.At(4), b.At(5), b.At(6), b.At(7));
        double s00 = 0, s01 = 0, s02 = 0, s03 = 0, s04 = 0, s05 = 0, s06 = 0, s07 = 0;
        double s10 = 0, s11 = 0, s12 = 0, s13 = 0, s14 = 0, s15 = 0, s16 = 0, s17 = 0;
        double s20 = 0, s21 = 0, s22 = 0, s23 = 0, s24 = 0, s25 = 0, s26 = 0, s27 = 0;
        double s30 = 0, s31 = 0, s32 = 0, s33 = 0, s34 = 0, s35 = 0, s36 = 0, s37 = 0;
        long ka = 0, kb = 0;
        for (long k = 0; k < count; k++, ka += a.KStride, kb += b.KStride)
        {
            float x0 = av[a0 + ka], x1 = av[a1 + ka], x2 = av[a2 + ka], x3 = av[a3 + ka];
            float y0 = bv[b0 + kb], y1 = bv[b1 + kb], y2 = bv[b2 + kb], y3 = bv[b3 + kb];
            float y4 = bv[b4 + kb], y5 = bv[b5 + kb], y6 = bv[b6 + kb], y7 = bv[b7 + kb];
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3; s04 += x0 * y4; s05 += x0 * y5; s06 += x0 * y6; s07 += x0 * y7;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3; s14 += x1 * y4; s15 += x1 * y5; s16 += x1 * y6; s17 += x1 * y7;
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3; s24 += x2 * y4; s25 += x2 * y5; s26 += x2 * y6; s27 += x2 * y7;
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3; s34 += x3 * y4; s35 += x3 * y5; s36 += x3 * y6; s37 += x3 * y7;
        }
        sink.Store(0, 0, (float)s00); sink.Store(0, 1, (float)s01); sink.Store(0, 2, (float)s02); sink.Store(0, 3, (float)s03);
        sink.Store(0, 4, (float)s04); sink.Store(0, 5, (float)s05); sink.Store(0, 6, (float)s06); sink.Store(0, 7, (float)s07);
        sink.Store(1, 0, (float)s10); sink.Store(1, 1, (float)s11); sink.Store(1, 2, (float)s12); sink.Store(1, 3, (float)s13);
        sink.Store(1, 4, (float)s14); sink.Store(1, 5, (float)s15); sink.Store(1, 6, (float)s16); sink.Store(1, 7, (float)s17);
        sink.Store(2, 0, (float)s20); sink.Store(2, 1, (float)s21); sink.Store(2, 2, (float)s22); sink.Store(2, 3, (float)s23);
        sink.Store(2, 4, (float)s24); sink.Store(2, 5, (float)s25); sink.Store(2, 6, (float)s26); sink.Store(2, 7, (float)s27);
        sink.Store(3, 0, (float)s30); sink.Store(3, 1, (float)s31); sink.Store(3, 2, (float)s32); sink.Store(3, 3, (float)s33);
        sink.Store(3, 4, (float)s34); sink.Store(3, 5, (float)s35); sink.Store(3, 6, (float)s36); sink.Store(3, 7, (float)s37);
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
/// The AVX2 kernel keeps a 4 × 16 tile of C in eight registers: per k, two loads of B, four broadcasts of
/// A, eight FMAs. Column strips of B (16 wide, K long: 32 KiB at K = 512) stay in L1 while every
/// row block passes over them. Where AVX-512 exists, 32-column strips run in 8 × 32 tiles instead
/// (sixteen of the 32 zmm registers: per k, two loads of B and eight broadcasts for sixteen 16-lane
/// FMAs, half the instructions per flop), their leftover rows and columns on the AVX2 tiles. Every
/// output is the same chain of FMAs from its bias in k order in every tile, so both widths give the
/// same bits (tested). Sums are float32 with FMA (K ≤ 512 terms here).
/// </summary>
static unsafe class MatMulCpu
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The 8 × 32 AVX-512 tiles run (where the CPU has them; tests also run the AVX2 tiles alone there).</summary>
    public static bool Is512Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// out[n][o] = Σ_c in[n][c]·w[o][c] + bias[o] (bias may be null) for <paramref name="rows"/> rows.
    /// <paramref name="transposed"/>: scratch for C·OC floats.
    /// </summary>
    public static void Forward(float* input, float* weight, float* bias, float* output, int rows, int inputWidth, int outputWidth, float* transposed,
        bool wide)
    {
        Transpose(weight, outputWidth, inputWidth, transposed);
        ForwardTransposed(input, transposed, bias, output, rows, inputWidth, outputWidth, wide);
    }

    /// <summary><see cref="Forward"/> with Wᵀ already in <paramref name="transposed"/> ([C][OC], from <see cref="Transpose"/>).</summary>
    public static void ForwardTransposed(float* input, float* transposed, float* bias, float* output, int rows, int inputWidth, int outputWidth, bool wide) =>
        Gemm(input, inputWidth, 1, transposed, outputWidth, output, outputWidth, rows, outputWidth, inputWidth, bias, wide);

    /// <summary>
    /// to[c][r] = from[r][c] for a [rows][columns] matrix: 8 × 8 blocks transposed in registers (unpack, shuffle,
    /// lane permute), the edges one number at a time. Element by element the scalar loop's strided stores cost a
    /// third of a forward product's time at the model's shapes.
    /// </summary>
    public static void Transpose(float* from, int rows, int columns, float* to)
    {
        var r = 0;
        for (; r + 8 <= rows; r += 8)
        {
            var c = 0;
            for (; c + 8 <= columns; c += 8) Transpose8x8(from + (long)r * columns + c, columns, to + (long)c * rows + r, rows);
            for (; c < columns; c++)
                for (var i = 0; i < 8; i++) to[(long)c * rows + r + i] = from[(long)(r + i) * columns + c];
        }
        for (; r < rows; r++)
            for (var c = 0; c < columns; c++) to[(long)c * rows + r] = from[(long)r * columns + c];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(float* from, int ldFrom, float* to, int ldTo)
    {
        var r0 = Avx.LoadVector256(from);
        var r1 = Avx.LoadVector256(from + ldFrom);
        var r2 = Avx.LoadVector256(from + 2L * ldFrom);
        var r3 = Avx.LoadVector256(from + 3L * ldFrom);
        var r4 = Avx.LoadVector256(from + 4L * ldFrom);
        var r5 = Avx.LoadVector256(from + 5L * ldFrom);
        var r6 = Avx.LoadVector256(from + 6L * ldFrom);
        var r7 = Avx.LoadVector256(from + 7L * ldFrom);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(to, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(to + ldTo, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(to + 2L * ldTo, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(to + 3L * ldTo, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(to + 4L * ldTo, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(to + 5L * ldTo, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(to + 6L * ldTo, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(to + 7L * ldTo, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>din[n][c] = Σ_o dout[n][o]·w[o][c] (overwrites) for <paramref name="rows"/> rows.</summary>
    public static void BackwardInput(float* dout, float* weight, float* dinput, int rows, int inputWidth, int outputWidth, bool wide) =>
        Gemm(dout, outputWidth, 1, weight, inputWidth, dinput, inputWidth, rows, inputWidth, outputWidth, null, wide);

    /// <summary>
    /// For outputs o in [first, first + count): dw[o][c] = Σ_n dout[n][o]·in[n][c] and, when dbias is
    /// not null, dbias[o] = Σ_n dout[n][o] (both overwrite). <paramref name="dweight"/> and
    /// <paramref name="dbias"/> point at the whole tensors.
    /// </summary>
    public static void BackwardWeight(float* dout, float* input, float* dweight, float* dbias, int rows, int inputWidth, int outputWidth,
        int first, int count, bool wide)
    {
        Gemm(dout + first, 1, outputWidth, input, inputWidth, dweight + (long)first * inputWidth, inputWidth, count, inputWidth, rows, null, wide);
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
    /// <paramref name="wide"/>: 32-column strips in AVX-512 8 × 32 tiles (needs <see cref="Is512Supported"/>).
    /// </summary>
    public static void Gemm(float* a, long aRow, long aColumn, float* b, int ldb, float* c, int ldc, int m, int n, int k, float* bias, bool wide)
    {
        var j = 0;
        if (wide)
            for (; j + 32 <= n; j += 32)
            {
                var i = 0;
                for (; i + 8 <= m; i += 8) Tile8x32(a + i * aRow, aRow, aColumn, b + j, ldb, c + (long)i * ldc + j, ldc, k, bias == null ? null : bias + j);
                if (i < m) Gemm(a + i * aRow, aRow, aColumn, b + j, ldb, c + (long)i * ldc + j, ldc, m - i, 32, k, bias == null ? null : bias + j);
            }
        Gemm(a, aRow, aColumn, b + j, ldb, c + j, ldc, m, n - j, k, bias == null ? null : bias + j);
    }

    /// <summary><see cref="Gemm(float*, long, long, float*, int, float*, int, int, int, int, float*, bool)"/> on the AVX2 tiles alone.</summary>
    static void Gemm(float* a, long aRow, long aColumn, float* b, int ldb, float* c, int ldc, int m, int n, int k, float* bias)
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

    /// <summary>An 8 × 32 tile of C in sixteen zmm accumulators (see the class remarks).</summary>
    static void Tile8x32(float* a, long aRow, long aColumn, float* b, int ldb, float* c, int ldc, int k, float* bias)
    {
        var start0 = bias == null ? Vector512<float>.Zero : Vector512.Load(bias);
        var start1 = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + 16);
        Vector512<float> c00 = start0, c01 = start1, c10 = start0, c11 = start1, c20 = start0, c21 = start1, c30 = start0, c31 = start1;
        Vector512<float> c40 = start0, c41 = start1, c50 = start0, c51 = start1, c60 = start0, c61 = start1, c70 = start0, c71 = start1;
        for (var p = 0; p < k; p++)
        {
            var row = b + (long)p * ldb;
            var b0 = Vector512.Load(row);
            var b1 = Vector512.Load(row + 16);
            var column = a + p * aColumn;
            var x = Vector512.Create(column[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(column[aRow]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(column[2 * aRow]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(column[3 * aRow]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(column[4 * aRow]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(column[5 * aRow]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(column[6 * aRow]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(column[7 * aRow]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2L * ldc); c21.Store(c + 2L * ldc + 16);
        c30.Store(c + 3L * ldc); c31.Store(c + 3L * ldc + 16);
        c40.Store(c + 4L * ldc); c41.Store(c + 4L * ldc + 16);
        c50.Store(c + 5L * ldc); c51.Store(c + 5L * ldc + 16);
        c60.Store(c + 6L * ldc); c61.Store(c + 6L * ldc + 16);
        c70.Store(c + 7L * ldc); c71.Store(c + 7L * ldc + 16);
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
        if (blockedMatMulForward is not null)
        {
            Launch(blockedMatMulForward, BlockedMatMulKernels.ForwardItems(a), a);
            return;
        }
        if (a.NormWeight >= 0 && a.InputWidth > TiledMatMulKernels.MaxNormWidth)
        {
            MatMulForwardPlain(a); // rows too wide for the prologue's shared memory
            return;
        }
        tiledMatMulForward(TiledMatMulKernels.ForwardConfig(accelerator, a), a);
    }

    /// <summary>The transposed weights <see cref="FreezeWeights"/> keeps on this thread, by weight address, replicate stride, R and shape.</summary>
    [ThreadStatic] static Dictionary<(nint, long, int, int, int), float[]>? frozenTransposes;

    /// <summary>
    /// Until disposed, the CPU path's forward products called on this thread transpose each weight once and keep it: for
    /// the sampler, which runs the same weights over hundreds of positions and chunks without changing them. The caller
    /// promises the parameters do not change inside the scope (per thread, so another thread's training is unaffected).
    /// </summary>
    internal static IDisposable FreezeWeights()
    {
        if (frozenTransposes is not null) return new Thaw(false);
        frozenTransposes = [];
        return new Thaw(true);
    }

    sealed class Thaw(bool owner) : IDisposable
    {
        public void Dispose()
        {
            if (owner) frozenTransposes = null;
        }
    }

    /// <summary>The product alone on the CPU path: register-blocked AVX2 (AVX-512 where present) over (replicate, block of rows) work items.</summary>
    void MatMulProductCpu(MatMulForwardArgs a)
    {
        accelerator.Synchronize();
        float* x = Ptr(a.Input), w = Ptr(a.Parameters), y = Ptr(a.Output);
        var (count, rowsPerReplicate, inputWidth, outputWidth, weight, bias) = (a.ParameterCount, a.Rows, a.InputWidth, a.OutputWidth, a.Weight, a.Bias);
        var wide = MatMulCpu.Is512Supported; // same bits as the AVX2 tiles (MatMulCpuTests)
        var blocks = RowBlocks(a.Replicates, rowsPerReplicate);
        // Wᵀ once per replicate, not once per block of rows: with one replicate every core's blocks share it (sampling's
        // blocks are 32 rows, where a transpose per block cost a quarter of the product). Two loops, so the caller's scratch.
        var size = (long)inputWidth * outputWidth;
        float* transposed;
        var key = ((nint)(w + weight), count, a.Replicates, inputWidth, outputWidth);
        if (frozenTransposes is { } frozen && frozen.TryGetValue(key, out var kept)) transposed = (float*)Unsafe.AsPointer(ref kept[0]);
        else
        {
            if (frozenTransposes is { } keep)
            {
                var array = GC.AllocateUninitializedArray<float>((int)(a.Replicates * size), pinned: true);
                keep[key] = array;
                transposed = (float*)Unsafe.AsPointer(ref array[0]);
            }
            else transposed = ThreadScratch.FloatPointer(a.Replicates * size);
            if (a.Replicates == 1 || a.Replicates * size < HostParallelWork) for (var r = 0; r < a.Replicates; r++) Transpose(r);
            else CpuParallel.For(a.Replicates, Transpose);
        }
        CpuParallel.For((long)a.Replicates * blocks, item =>
        {
            var r = item / blocks;
            var (first, rows) = Block(item % blocks, blocks, rowsPerReplicate);
            MatMulCpu.ForwardTransposed(x + (r * rowsPerReplicate + first) * inputWidth, transposed + r * size,
                bias >= 0 ? w + r * count + bias : null, y + (r * rowsPerReplicate + first) * outputWidth, rows, inputWidth, outputWidth, wide);
        });

        void Transpose(long r) => MatMulCpu.Transpose(w + r * count + weight, outputWidth, inputWidth, transposed + r * size);
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

    void MatMulBackwardShaped(MatMulBackwardArgs a)
    {
        if (blockedMatMulBackward is not null) Launch(blockedMatMulBackward, BlockedMatMulKernels.BackwardItems(a), a);
        else tiledMatMulBackward(TiledMatMulKernels.BackwardConfig(accelerator, a), a);
    }

    /// <summary>Both gradients on the CPU path: (replicate, block of rows) items of each product.</summary>
    void MatMulGradientsCpu(MatMulBackwardArgs a)
    {
        accelerator.Synchronize();
        float* dy = Ptr(a.Dout), x = Ptr(a.Input), w = Ptr(a.Parameters), dx = Ptr(a.Dinput), g = Ptr(a.Gradients);
        var (count, rowsPerReplicate, inputWidth, outputWidth, weight, bias) = (a.ParameterCount, a.Rows, a.InputWidth, a.OutputWidth, a.Weight, a.Bias);
        var wide = MatMulCpu.Is512Supported; // same bits as the AVX2 tiles (MatMulCpuTests)
        var rowBlocks = RowBlocks(a.Replicates, rowsPerReplicate);
        var outputBlocks = RowBlocks(a.Replicates, outputWidth);
        // Work items: (replicate, block of input-gradient rows), then (replicate, block of weight-gradient rows).
        CpuParallel.For((long)a.Replicates * (rowBlocks + outputBlocks), item =>
        {
            var r = item / (rowBlocks + outputBlocks);
            var k = item % (rowBlocks + outputBlocks);
            var rows = (int)rowsPerReplicate;
            if (k < rowBlocks)
            {
                var (first, blockRows) = Block(k, rowBlocks, rowsPerReplicate);
                MatMulCpu.BackwardInput(dy + (r * rowsPerReplicate + first) * outputWidth, w + r * count + weight,
                    dx + (r * rowsPerReplicate + first) * inputWidth, blockRows, inputWidth, outputWidth, wide);
            }
            else
            {
                var (first, outputs) = Block(k - rowBlocks, outputBlocks, outputWidth);
                MatMulCpu.BackwardWeight(dy + r * rowsPerReplicate * outputWidth, x + r * rowsPerReplicate * inputWidth,
                    g + r * count + weight, bias >= 0 ? g + r * count + bias : null, rows, inputWidth, outputWidth, (int)first, outputs, wide);
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
