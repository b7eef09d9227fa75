using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

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
        var (tx, ty, width, height) = (Group.IdxX, Group.IdxY, Group.DimX, Group.DimY);
        var (lane, size) = (ty * width + tx, width * height);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var (k, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var columnTiles = (oc + tileColumns - 1) / tileColumns;
        var rowTiles = (n + tileRows - 1) / tileRows;
        long g = Grid.IdxX;
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
        var (tx, ty, width, height) = (Group.IdxX, Group.IdxY, Group.DimX, Group.DimY);
        var (lane, size) = (ty * width + tx, width * height);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var (c, oc, n) = (a.InputWidth, a.OutputWidth, a.Rows);
        var aTile = shared.SubView(0, (long)tileRows * ChunkStride);
        var bTile = shared.SubView((long)tileRows * ChunkStride, (long)tileColumns * ChunkStride);
        var inputGroups = InputGroups(a.Replicates, n, c, tileRows, tileColumns);
        long g = Grid.IdxX;
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

    static int Groups(long groups) =>
        groups <= int.MaxValue ? (int)Math.Max(1, groups) : throw new ArgumentException($"{groups} tiles are more groups than one launch holds");

    /// <summary>
    /// The launch of <see cref="Forward"/>: groups (TX, TY) as <see cref="Shape"/> picks, fewer rows (TY smaller)
    /// with the LayerNorm prologue so that TM full rows of InputWidth + 1 floats fit <see cref="SharedFloats"/>
    /// memory beside the weight chunk; one group per (replicate, row tile, column tile).
    /// </summary>
    public static KernelConfig ForwardConfig(Accelerator accelerator, in MatMulForwardArgs a, int groupLimit = MaxGroup)
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
        return new KernelConfig(new Index3D(Groups(groups), 1, 1), new Index3D(width, height, 1));
    }

    /// <summary>
    /// The launch of <see cref="Backward"/>: one group shape for both parts (from the larger of Rows and
    /// OutputWidth and from InputWidth + 1), G1 input-gradient tiles then G2 weight-gradient tiles.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in MatMulBackwardArgs a, int groupLimit = MaxGroup)
    {
        var (width, height) = Shape(accelerator, Math.Max(a.Rows, a.OutputWidth), a.Bias >= 0 ? a.InputWidth + 1 : a.InputWidth, groupLimit);
        var (tileRows, tileColumns) = (Block * height, Block * width);
        var groups = InputGroups(a.Replicates, a.Rows, a.InputWidth, tileRows, tileColumns) + WeightGroups(a, tileRows, tileColumns);
        return new KernelConfig(new Index3D(Groups(groups), 1, 1), new Index3D(width, height, 1));
    }
}
