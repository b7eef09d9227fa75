using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;
using Collapse.Kernels.Accelerators;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// LayerNorm over the channels of each row (PyTorch's: biased variance, eps 1e-5), batched over
// replicates. Rows are [R][N][C]; mean and 1/std are kept per row [R][N] for backward.

/// <summary>Arguments of <see cref="LayerNormKernels.Forward"/>.</summary>
public struct LayerNormForwardArgs
{
    /// <summary>The rows normalized [R][N][C] and the output, same shape.</summary>
    public ArrayView<float> Input, Output;
    /// <summary>The parameter vector and the offsets of the weight and bias in each replicate's P.</summary>
    public ArrayView<float> Parameters;
    public long Weight, Bias, ParameterCount;
    /// <summary>Each row's mean and 1/std [R][N], kept for backward.</summary>
    public ArrayView<float> Mean, Rstd;
    public long RowsPerReplicate;
    public int Width;
}

/// <summary>
/// The arguments of <see cref="GroupedLayerNormKernels.Backward"/>: the LayerNorm backward of R
/// replicates at once, as <see cref="LmKernels.LayerNormBackward"/> takes them.
/// </summary>
public struct LayerNormBackwardArgs
{
    /// <summary>d loss/d output, [R][N][C].</summary>
    public ArrayView<float> Dout;

    /// <summary>The LayerNorm's input, [R][N][C].</summary>
    public ArrayView<float> Input;

    /// <summary>Every replicate's parameters, [R][ParameterCount]; the weight at offset <see cref="Weight"/>.</summary>
    public ArrayView<float> Parameters;

    /// <summary>The forward's mean and 1/std of each row, [R][N].</summary>
    public ArrayView<float> Mean, Rstd;

    /// <summary>d loss/d input, [R][N][C]: the kernel adds to it (the residual stream's pass-through is already there).</summary>
    public ArrayView<float> Dinput;

    /// <summary>Gradients laid out like <see cref="Parameters"/>; the weight's and bias's C entries per replicate are overwritten.</summary>
    public ArrayView<float> Gradients;

    /// <summary>P, the replicate stride of <see cref="Parameters"/> and <see cref="Gradients"/>, and the weight's and bias's offsets in it.</summary>
    public long ParameterCount, Weight, Bias;

    /// <summary>N, rows per replicate (B·T).</summary>
    public long RowsPerReplicate;

    /// <summary>R, and C (channels per row).</summary>
    public int Replicates, Width;
}

static class LayerNormKernels
{
    public const float Epsilon = 1e-5f;

    /// <summary>One item per (replicate, row): two passes (mean, then the centred variance), so a row far from 0 loses nothing.</summary>
    public static void Forward(Index1D thread, LayerNormForwardArgs a, int stride)
    {
        var (input, parameters, output, width) = (a.Input, a.Parameters, a.Output, a.Width);
        var rows = a.Mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var r = row / a.RowsPerReplicate;
            var x = row * width;
            var m = 0.0f;
            for (var c = 0; c < width; c++) m += input[x + c];
            m /= width;
            var variance = 0.0f;
            for (var c = 0; c < width; c++)
            {
                var d = input[x + c] - m;
                variance += d * d;
            }
            var s = 1.0f / MathF.Sqrt(variance / width + Epsilon);
            var w = r * a.ParameterCount + a.Weight;
            var b = r * a.ParameterCount + a.Bias;
            for (var c = 0; c < width; c++)
                output[x + c] = (input[x + c] - m) * s * parameters[w + c] + parameters[b + c];
            a.Mean[row] = m;
            a.Rstd[row] = s;
        }
    }

    /// <summary>
    /// dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dout·w, x̂ = (x − mean)·rstd; one item per
    /// row. Adds, because the input is the residual stream, whose gradient already holds the
    /// pass-through part of x + f(LayerNorm(x)).
    /// </summary>
    public static void BackwardInput(Index1D thread, LayerNormBackwardArgs a, int stride)
    {
        var (dout, input, parameters, dinput, width) = (a.Dout, a.Input, a.Parameters, a.Dinput, a.Width);
        var rows = a.Mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var w = row / a.RowsPerReplicate * a.ParameterCount + a.Weight;
            var x = row * width;
            var (m, s) = (a.Mean[row], a.Rstd[row]);
            var meanG = 0.0f;
            var meanGXhat = 0.0f;
            for (var c = 0; c < width; c++)
            {
                var g = dout[x + c] * parameters[w + c];
                meanG += g;
                meanGXhat += g * (input[x + c] - m) * s;
            }
            meanG /= width;
            meanGXhat /= width;
            for (var c = 0; c < width; c++)
            {
                var g = dout[x + c] * parameters[w + c];
                dinput[x + c] += s * (g - meanG - (input[x + c] - m) * s * meanGXhat);
            }
        }
    }

    /// <summary>
    /// dweight[c] = Σ_rows dout·x̂, dbias[c] = Σ_rows dout (double sums over up to B·T rows); one
    /// item per (replicate, channel, weight-or-bias). Overwrites.
    /// </summary>
    public static void BackwardParameters(Index1D thread, LayerNormBackwardArgs a, int stride)
    {
        var (dout, input, mean, rstd, width) = (a.Dout, a.Input, a.Mean, a.Rstd, a.Width);
        var total = (long)a.Replicates * 2 * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / (2 * width);
            var rest = (int)(item - r * 2 * width);
            var isBias = rest >= width;
            var c = isBias ? rest - width : rest;
            var sum = 0.0;
            for (long n = 0; n < a.RowsPerReplicate; n++)
            {
                var row = r * a.RowsPerReplicate + n;
                var d = dout[row * width + c];
                sum += isBias ? d : d * (input[row * width + c] - mean[row]) * rstd[row];
            }
            a.Gradients[r * a.ParameterCount + (isBias ? a.Bias : a.Weight) + c] = (float)sum;
        }
    }
}

/// <summary>
/// LayerNorm backward in one launch: <see cref="LayerNormKernels.BackwardInput"/> and
/// <see cref="LayerNormKernels.BackwardParameters"/> (same math), the grid split in two. The first
/// groups are input groups: a team of lanes per row (see <see cref="GroupedRows"/>), each lane over
/// channels c ≡ lane (mod L), the team reducing Σ g and Σ g·x̂; the input groups stride over the rows.
/// The last R·⌈C/<see cref="ParameterColumns"/>⌉ groups are parameter groups, one per (replicate,
/// chunk of <see cref="ParameterColumns"/> columns): lanes over (column, slice of rows), each summing
/// dout·x̂ and dout over its rows n ≡ slice (mod slices) in double, then a tree over the slices.
/// </summary>
/// <remarks>
/// Differs from the plain kernels only in summation order: the float Σ g and Σ g·x̂ of a row (a tree
/// over L lanes instead of one running sum; with the solo team, L = 1, the plain order and bits), and the
/// double sums over rows (slices then a tree; with one slice, G ≤ 32, the plain order).
/// Any grid of more than the parameter groups is correct; <see cref="BackwardConfig"/> gives one
/// input group per G/L rows.
/// </remarks>
static class GroupedLayerNormKernels
{
    /// <summary>Columns per parameter group.</summary>
    public const int ParameterColumns = 32;

    /// <summary>The parameter groups at the end of the grid: R·⌈C/<see cref="ParameterColumns"/>⌉.</summary>
    public static int ParameterGroups(in LayerNormBackwardArgs a) => a.Replicates * ((a.Width + ParameterColumns - 1) / ParameterColumns);

    /// <summary>The portable kernel: team reductions in shared memory (<see cref="SharedTeam"/>).</summary>
    public static void Backward(LayerNormBackwardArgs a) => Run<SharedTeam>(a);

    /// <summary>The same kernel with warp-shuffle team reductions (<see cref="WarpTeam"/>): CUDA and the ILGPU CPU accelerator.</summary>
    public static void BackwardWarp(LayerNormBackwardArgs a) => Run<WarpTeam>(a);

    /// <summary>The same kernel with one lane per row (<see cref="SoloTeam"/>): no barriers in the rows; for CPU devices.</summary>
    public static void BackwardSolo(LayerNormBackwardArgs a) => Run<SoloTeam>(a);

    /// <summary>
    /// Groups of G threads (<see cref="GroupedRows.GroupSize"/>: 256 on a GPU, 16 on PoCL, 1 on the ILGPU CPU accelerator;
    /// <paramref name="groupSize"/> &gt; 0 instead, a power of two, a multiple of the warp for <see cref="BackwardWarp"/>):
    /// input groups for one row per team up to what fills the device, then the parameter groups.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in LayerNormBackwardArgs a, int groupSize = 0)
    {
        if (a.Width <= 0 || a.Replicates <= 0 || a.RowsPerReplicate <= 0) throw new ArgumentException("empty LayerNorm backward");
        var size = GroupedRows.GroupSize(accelerator, 256, groupSize);
        var lanes = GroupedRows.Lanes(accelerator, GroupedRows.DefaultTeam(accelerator), size);
        var teams = Math.Max(1, size / lanes);
        var rows = (long)a.Replicates * a.RowsPerReplicate;
        // One row per team, but no more groups than fill the device (they stride over the rows): 2 on the 2-core CPU accelerator.
        var inputGroups = (int)Math.Min((rows + teams - 1) / teams, GroupedRows.FillingGroups(accelerator, size));
        return new KernelConfig(inputGroups + ParameterGroups(a), size);
    }

    /// <summary>
    /// The kernel with <paramref name="team"/>'s reductions (default <see cref="GroupedRows.DefaultTeam"/>): <see cref="Backward"/>,
    /// <see cref="BackwardWarp"/> or <see cref="BackwardSolo"/>. The warp variant needs groups of a multiple of the warp size
    /// (the default config's on CUDA; elsewhere pass a group size to <see cref="BackwardConfig"/>).
    /// </summary>
    public static Action<KernelConfig, LayerNormBackwardArgs> Load(Accelerator accelerator, RowTeam? team = null) =>
        accelerator.LoadStreamKernel(Kernel(team ?? GroupedRows.DefaultTeam(accelerator))).Serialized(accelerator);

    public static Action<LayerNormBackwardArgs> Kernel(RowTeam team) => team switch
    {
        RowTeam.Warp => BackwardWarp,
        RowTeam.Shared => Backward,
        _ => BackwardSolo,
    };

    static void Run<TTeam>(LayerNormBackwardArgs a) where TTeam : struct, IRowTeam
    {
        var first = SharedMemory.Allocate<float>(GroupedRows.MaxGroupSize);
        var second = SharedMemory.Allocate<float>(GroupedRows.MaxGroupSize);
        var weightSums = SharedMemory.Allocate<double>(GroupedRows.MaxGroupSize);
        var biasSums = SharedMemory.Allocate<double>(GroupedRows.MaxGroupSize);
        var inputGroups = Grid.DimX - ParameterGroups(a);
        if (Grid.IdxX < inputGroups) InputRows<TTeam>(a, inputGroups, first, second);
        else ParameterSums(a, Grid.IdxX - inputGroups, weightSums, biasSums);
    }

    /// <summary>dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·w, x̂ = (x − mean)·rstd: one team per row.</summary>
    static void InputRows<TTeam>(LayerNormBackwardArgs a, int inputGroups, ArrayView<float> first, ArrayView<float> second)
        where TTeam : struct, IRowTeam
    {
        var team = default(TTeam);
        var (index, size) = (Group.IdxX, Group.DimX);
        var lanes = team.Lanes(size);
        var (lane, which, teams) = (index % lanes, index / lanes, size / lanes);
        var width = a.Width;
        var rows = (long)a.Replicates * a.RowsPerReplicate;
        // Every team of the group runs the same number of passes (the reductions hold barriers).
        for (var start = (long)Grid.IdxX * teams; start < rows; start += (long)inputGroups * teams)
        {
            var row = start + which;
            var active = which < teams && row < rows;
            var sums = new FloatPair(0.0f, 0.0f);
            long w = 0, x = 0;
            float m = 0, s = 0;
            if (active)
            {
                w = row / a.RowsPerReplicate * a.ParameterCount + a.Weight;
                x = row * width;
                (m, s) = (a.Mean[row], a.Rstd[row]);
                for (var c = lane; c < width; c += lanes)
                {
                    var g = a.Dout[x + c] * a.Parameters[w + c];
                    sums.First += g;
                    sums.Second += g * (a.Input[x + c] - m) * s;
                }
            }
            sums = team.Sum(sums, first, second, lane, lanes);
            if (!active) continue;
            var meanG = sums.First / width;
            var meanGXhat = sums.Second / width;
            for (var c = lane; c < width; c += lanes)
            {
                var g = a.Dout[x + c] * a.Parameters[w + c];
                a.Dinput[x + c] += s * (g - meanG - (a.Input[x + c] - m) * s * meanGXhat);
            }
        }
    }

    /// <summary>dweight[c] = Σ_n dout·x̂, dbias[c] = Σ_n dout (double) for one (replicate, column chunk); overwrites.</summary>
    static void ParameterSums(LayerNormBackwardArgs a, int group, ArrayView<double> weightSums, ArrayView<double> biasSums)
    {
        var (index, size) = (Group.IdxX, Group.DimX);
        var chunks = (a.Width + ParameterColumns - 1) / ParameterColumns;
        var r = group / chunks;
        var firstColumn = (group - r * chunks) * ParameterColumns;
        var columns = Math.Min(ParameterColumns, a.Width - firstColumn);
        var columnLanes = Math.Min(ParameterColumns, size);
        var (j, slice, slices) = (index % columnLanes, index / columnLanes, size / columnLanes);
        var n = a.RowsPerReplicate;
        var firstRow = r * n;
        var width = a.Width;
        // Each lane's columns firstColumn + j, + columnLanes, …; the trip count does not depend on the lane (barriers below).
        for (var first = 0; first < ParameterColumns; first += columnLanes)
        {
            var k = first + j;
            var valid = slice < slices && k < columns;
            var c = firstColumn + k;
            double dw = 0.0, db = 0.0;
            if (valid)
                for (var i = (long)slice; i < n; i += slices)
                {
                    var row = firstRow + i;
                    var d = a.Dout[row * width + c];
                    dw += d * (a.Input[row * width + c] - a.Mean[row]) * a.Rstd[row];
                    db += d;
                }
            weightSums[index] = dw;
            biasSums[index] = db;
            Group.Barrier();
            var span = GroupedRows.CeilingPowerOfTwo(slices);
            for (var o = span / 2; o > 0; o /= 2)
            {
                if (valid && slice < o && slice + o < slices)
                {
                    weightSums[index] += weightSums[index + o * columnLanes];
                    biasSums[index] += biasSums[index + o * columnLanes];
                }
                Group.Barrier();
            }
            if (valid && slice == 0)
            {
                a.Gradients[r * a.ParameterCount + a.Weight + c] = (float)weightSums[index];
                a.Gradients[r * a.ParameterCount + a.Bias + c] = (float)biasSums[index];
            }
            Group.Barrier();
        }
    }
}

/// <summary>
/// The shaped LayerNorm backward for CPU devices (ILGPU's CPU accelerator, PoCL; see <see cref="BlockedMatMulKernels.Serves"/>):
/// <see cref="LayerNormKernels.BackwardInput"/>'s rows and the weight and bias gradients in one grid-stride launch, no groups.
/// A parameter item sums 8 columns at once, so a row's mean and rstd are read once for 8 columns and each dout once for
/// its weight and bias sums (the plain kernel reads them for every column, weight and bias apart). Each sum is the plain
/// kernels' (float per row, double over the rows, in order), so where both are compiled alike the bits are theirs.
/// Side by side at the makemore shape: 1.3–1.5× the plain kernels on ILGPU's CPU accelerator (the grouped kernel 1.0–1.5×)
/// and 1.5× on PoCL (the grouped kernel 1.35×).
/// </summary>
static class BlockedLayerNormKernels
{
    /// <summary>Columns a parameter item sums.</summary>
    public const int Columns = 8;

    static long ColumnBlocks(in LayerNormBackwardArgs a) => (a.Width + Columns - 1) / Columns;

    /// <summary>Items: every replicate's rows (the input gradient), then (replicate, block of 8 columns) for the parameters.</summary>
    public static long Items(in LayerNormBackwardArgs a)
    {
        if (a.Width <= 0 || a.Replicates <= 0 || a.RowsPerReplicate <= 0) throw new ArgumentException("empty LayerNorm backward");
        return a.Replicates * a.RowsPerReplicate + a.Replicates * ColumnBlocks(a);
    }

    public static void Backward(Index1D thread, LayerNormBackwardArgs a, int stride)
    {
        var rows = a.Replicates * a.RowsPerReplicate;
        var total = rows + a.Replicates * ColumnBlocks(a);
        for (long item = thread; item < total; item += stride)
        {
            if (item < rows) InputRow(a, item);
            else Parameters(a, item - rows);
        }
    }

    /// <summary>dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)) for one row, as <see cref="LayerNormKernels.BackwardInput"/>.</summary>
    static void InputRow(in LayerNormBackwardArgs a, long row)
    {
        var width = a.Width;
        var w = row / a.RowsPerReplicate * a.ParameterCount + a.Weight;
        var x = row * width;
        var (m, s) = (a.Mean[row], a.Rstd[row]);
        var meanG = 0.0f;
        var meanGXhat = 0.0f;
        for (var c = 0; c < width; c++)
        {
            var g = a.Dout[x + c] * a.Parameters[w + c];
            meanG += g;
            meanGXhat += g * (a.Input[x + c] - m) * s;
        }
        meanG /= width;
        meanGXhat /= width;
        for (var c = 0; c < width; c++)
        {
            var g = a.Dout[x + c] * a.Parameters[w + c];
            a.Dinput[x + c] += s * (g - meanG - (a.Input[x + c] - m) * s * meanGXhat);
        }
    }

    /// <summary>dweight = Σ_n dout·x̂ and dbias = Σ_n dout (double) for 8 columns of one replicate; overwrites.</summary>
    static void Parameters(in LayerNormBackwardArgs a, long item)
    {
        var width = a.Width;
        var blocks = ColumnBlocks(a);
        var r = item / blocks;
        var c0 = (int)(item - r * blocks) * Columns;
        var last = Math.Min(Columns, width - c0) - 1; // columns past it read the last one again (block edge)
        var (c1, c2, c3) = (c0 + Math.Min(1, last), c0 + Math.Min(2, last), c0 + Math.Min(3, last));
        var (c4, c5, c6, c7) = (c0 + Math.Min(4, last), c0 + Math.Min(5, last), c0 + Math.Min(6, last), c0 + Math.Min(7, last));
        double w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0;
        double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
        for (var row = r * a.RowsPerReplicate; row < (r + 1) * a.RowsPerReplicate; row++)
        {
            var (m, s) = (a.Mean[row], a.Rstd[row]);
            var x = row * width;
            float d0 = a.Dout[x + c0], d1 = a.Dout[x + c1], d2 = a.Dout[x + c2], d3 = a.Dout[x + c3];
            float d4 = a.Dout[x + c4], d5 = a.Dout[x + c5], d6 = a.Dout[x + c6], d7 = a.Dout[x + c7];
            w0 += d0 * (a.Input[x + c0] - m) * s; w1 += d1 * (a.Input[x + c1] - m) * s;
            w2 += d2 * (a.Input[x + c2] - m) * s; w3 += d3 * (a.Input[x + c3] - m) * s;
            w4 += d4 * (a.Input[x + c4] - m) * s; w5 += d5 * (a.Input[x + c5] - m) * s;
            w6 += d6 * (a.Input[x + c6] - m) * s; w7 += d7 * (a.Input[x + c7] - m) * s;
            b0 += d0; b1 += d1; b2 += d2; b3 += d3; b4 += d4; b5 += d5; b6 += d6; b7 += d7;
        }
        var (weight, bias) = (r * a.ParameterCount + a.Weight + c0, r * a.ParameterCount + a.Bias + c0);
        Store(a.Gradients, weight, bias, 0, last, w0, b0);
        Store(a.Gradients, weight, bias, 1, last, w1, b1);
        Store(a.Gradients, weight, bias, 2, last, w2, b2);
        Store(a.Gradients, weight, bias, 3, last, w3, b3);
        Store(a.Gradients, weight, bias, 4, last, w4, b4);
        Store(a.Gradients, weight, bias, 5, last, w5, b5);
        Store(a.Gradients, weight, bias, 6, last, w6, b6);
        Store(a.Gradients, weight, bias, 7, last, w7, b7);
    }

    static void Store(ArrayView<float> gradients, long weight, long bias, int j, int last, double dw, double db)
    {
        if (j > last) return;
        gradients[weight + j] = (float)dw;
        gradients[bias + j] = (float)db;
    }
}

/// <summary>LayerNorm on the CPU path: the kernels' arithmetic as pointer loops over a range of rows.</summary>
/// <summary>
/// LayerNorm on the CPU path, eight channels at a time: the row sums in eight lanes then added across (a different
/// summation order from the kernels', within the tests' tolerance), every per-channel expression with the kernels'
/// operations in their order.
/// </summary>
static unsafe class LayerNormCpu
{
    public static void Forward(float* input, float* weight, float* bias, float* output, float* mean, float* rstd, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            var x = input + n * width;
            var m = Sum(x, width) / width;
            var vm = Vector256.Create(m);
            var squares = Vector256<float>.Zero;
            var c = 0;
            for (; c + 8 <= width; c += 8)
            {
                var d = Avx.LoadVector256(x + c) - vm;
                squares += d * d;
            }
            var variance = Vector256.Sum(squares);
            for (; c < width; c++) variance += (x[c] - m) * (x[c] - m);
            var s = 1.0f / MathF.Sqrt(variance / width + LayerNormKernels.Epsilon);
            var vs = Vector256.Create(s);
            var y = output + n * width;
            for (c = 0; c + 8 <= width; c += 8)
                ((Avx.LoadVector256(x + c) - vm) * vs * Avx.LoadVector256(weight + c) + Avx.LoadVector256(bias + c)).Store(y + c);
            for (; c < width; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
            mean[n] = m;
            rstd[n] = s;
        }
    }

    /// <summary>dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·w, for <paramref name="rows"/> rows.</summary>
    public static void BackwardInput(float* dout, float* input, float* weight, float* mean, float* rstd, float* dinput, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width, dx = dinput + n * width;
            var (m, s) = (mean[n], rstd[n]);
            var (vm, vs) = (Vector256.Create(m), Vector256.Create(s));
            Vector256<float> sumG = Vector256<float>.Zero, sumGXhat = Vector256<float>.Zero;
            var c = 0;
            for (; c + 8 <= width; c += 8)
            {
                var g = Avx.LoadVector256(d + c) * Avx.LoadVector256(weight + c);
                sumG += g;
                sumGXhat += g * (Avx.LoadVector256(x + c) - vm) * vs;
            }
            float meanG = Vector256.Sum(sumG), meanGXhat = Vector256.Sum(sumGXhat);
            for (; c < width; c++)
            {
                var g = d[c] * weight[c];
                meanG += g;
                meanGXhat += g * (x[c] - m) * s;
            }
            meanG /= width;
            meanGXhat /= width;
            var (vg, vgx) = (Vector256.Create(meanG), Vector256.Create(meanGXhat));
            for (c = 0; c + 8 <= width; c += 8)
                (Avx.LoadVector256(dx + c) + vs * (Avx.LoadVector256(d + c) * Avx.LoadVector256(weight + c) - vg - (Avx.LoadVector256(x + c) - vm) * vs * vgx)).Store(dx + c);
            for (; c < width; c++) dx[c] += s * (d[c] * weight[c] - meanG - (x[c] - m) * s * meanGXhat);
        }
    }

    /// <summary>One replicate's dweight = Σ_rows dout·x̂ and dbias = Σ_rows dout (overwritten), rows in order.</summary>
    public static void BackwardParameters(float* dout, float* input, float* mean, float* rstd, float* dweight, float* dbias, long rows, int width)
    {
        new Span<float>(dweight, width).Clear();
        new Span<float>(dbias, width).Clear();
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width;
            var (m, s) = (mean[n], rstd[n]);
            var (vm, vs) = (Vector256.Create(m), Vector256.Create(s));
            var c = 0;
            for (; c + 8 <= width; c += 8)
            {
                var dc = Avx.LoadVector256(d + c);
                (Avx.LoadVector256(dweight + c) + dc * (Avx.LoadVector256(x + c) - vm) * vs).Store(dweight + c);
                (Avx.LoadVector256(dbias + c) + dc).Store(dbias + c);
            }
            for (; c < width; c++)
            {
                dweight[c] += d[c] * (x[c] - m) * s;
                dbias[c] += d[c];
            }
        }
    }

    static float Sum(float* x, int n)
    {
        var sum = Vector256<float>.Zero;
        var c = 0;
        for (; c + 8 <= n; c += 8) sum += Avx.LoadVector256(x + c);
        var total = Vector256.Sum(sum);
        for (; c < n; c++) total += x[c];
        return total;
    }
}

public sealed unsafe partial class LmKernels
{
    /// <summary>output, mean, rstd of input [R][N][C]; mean and rstd are [R][N] views of exactly R·N.</summary>
    public void LayerNormForward(ArrayView<float> input, ReplicatedParameters p, long weight, long bias, ArrayView<float> output,
        ArrayView<float> mean, ArrayView<float> rstd, long rowsPerReplicate, int width) =>
        layerNormForwardOp(new LayerNormForwardArgs
        {
            Input = input, Parameters = p.View, Weight = weight, Bias = bias, ParameterCount = p.Count, Output = output,
            Mean = mean, Rstd = rstd, RowsPerReplicate = rowsPerReplicate, Width = width,
        });

    /// <summary>dinput += the LayerNorm's input gradient; the weight and bias gradients are overwritten.</summary>
    public void LayerNormBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dinput, ReplicatedParameters gradients, int replicates,
        long rowsPerReplicate, int width) =>
        layerNormBackwardOp(new LayerNormBackwardArgs
        {
            Input = input, Dout = dout, Parameters = p.View, Weight = weight, Bias = bias, ParameterCount = p.Count, Dinput = dinput,
            Mean = mean, Rstd = rstd, Gradients = gradients.View, Replicates = replicates, RowsPerReplicate = rowsPerReplicate, Width = width,
        });

    void LayerNormForwardCpu(LayerNormForwardArgs a)
    {
        float* x = Ptr(a.Input), w = Ptr(a.Parameters), y = Ptr(a.Output), m = Ptr(a.Mean), s = Ptr(a.Rstd);
        var (count, weight, bias, rowsPerReplicate, width) = (a.ParameterCount, a.Weight, a.Bias, a.RowsPerReplicate, a.Width);
        HostRanges(a.Mean.Length, a.Mean.Length * width, (first, n) => ForEachReplicate(first, n, rowsPerReplicate, (r, row, k) =>
        {
            var at = r * rowsPerReplicate + row;
            LayerNormCpu.Forward(x + at * width, w + r * count + weight, w + r * count + bias, y + at * width, m + at, s + at, k, width);
        }));
    }

    void LayerNormForwardPlain(LayerNormForwardArgs a) => Launch(layerNormForward, a.Mean.Length, a);

    void LayerNormBackwardCpu(LayerNormBackwardArgs a)
    {
        float* dy = Ptr(a.Dout), x = Ptr(a.Input), w = Ptr(a.Parameters), m = Ptr(a.Mean), s = Ptr(a.Rstd), dx = Ptr(a.Dinput), g = Ptr(a.Gradients);
        var (count, weight, bias, rowsPerReplicate, width) = (a.ParameterCount, a.Weight, a.Bias, a.RowsPerReplicate, a.Width);
        // Items: every replicate's rows for the input gradient, then one item per replicate for the weight and bias gradients.
        var rows = a.Mean.Length;
        HostRanges(rows + a.Replicates, 2 * rows * width, (first, n) =>
        {
            var end = first + n;
            if (first < rows)
                ForEachReplicate(first, Math.Min(end, rows) - first, rowsPerReplicate, (r, row, k) =>
                {
                    var at = r * rowsPerReplicate + row;
                    LayerNormCpu.BackwardInput(dy + at * width, x + at * width, w + r * count + weight, m + at, s + at, dx + at * width, k, width);
                });
            for (var r = Math.Max(first, rows) - rows; r < end - rows; r++)
                LayerNormCpu.BackwardParameters(dy + r * rowsPerReplicate * width, x + r * rowsPerReplicate * width, m + r * rowsPerReplicate,
                    s + r * rowsPerReplicate, g + r * count + weight, g + r * count + bias, rowsPerReplicate, width);
        });
    }

    void LayerNormBackwardPlain(LayerNormBackwardArgs a)
    {
        Launch(layerNormBackwardInput, a.Mean.Length, a);
        Launch(layerNormBackwardParameters, (long)a.Replicates * 2 * a.Width, a);
    }

    void LayerNormBackwardShaped(LayerNormBackwardArgs a)
    {
        if (blockedLayerNormBackward is not null) Launch(blockedLayerNormBackward, BlockedLayerNormKernels.Items(a), a);
        else groupedLayerNormBackward(GroupedLayerNormKernels.BackwardConfig(accelerator, a), a);
    }
}
