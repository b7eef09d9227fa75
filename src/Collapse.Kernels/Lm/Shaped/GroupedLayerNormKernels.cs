using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

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
/// over L lanes instead of one running sum), and the double sums over rows (slices then a tree).
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

    /// <summary>
    /// Groups of G threads (<see cref="GroupedRows.GroupSize"/>: 256 on a GPU, 16 on PoCL, 1 on the ILGPU CPU accelerator;
    /// <paramref name="groupSize"/> &gt; 0 instead, a power of two, a multiple of the warp for <see cref="BackwardWarp"/>):
    /// input groups for one row per team up to what fills the device, then the parameter groups.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in LayerNormBackwardArgs a, int groupSize = 0)
    {
        if (a.Width <= 0 || a.Replicates <= 0 || a.RowsPerReplicate <= 0) throw new ArgumentException("empty LayerNorm backward");
        var size = GroupedRows.GroupSize(accelerator, 256, groupSize);
        var lanes = GroupedRows.UsesWarps(accelerator) ? accelerator.WarpSize : Math.Min(GroupedRows.MaxLanes, size);
        var teams = Math.Max(1, size / lanes);
        var rows = (long)a.Replicates * a.RowsPerReplicate;
        // One row per team, but no more groups than fill the device (they stride over the rows): 2 on the 2-core CPU accelerator.
        var inputGroups = (int)Math.Min((rows + teams - 1) / teams, GroupedRows.FillingGroups(accelerator, size));
        return new KernelConfig(inputGroups + ParameterGroups(a), size);
    }

    /// <summary>
    /// The kernel for <paramref name="accelerator"/>: <see cref="BackwardWarp"/> where <see cref="GroupedRows.UsesWarps"/> (or
    /// <paramref name="warps"/> says so), else <see cref="Backward"/>. The warp variant needs groups of a multiple of the warp
    /// size (the default config's on CUDA; elsewhere pass a group size to <see cref="BackwardConfig"/>).
    /// </summary>
    public static Action<KernelConfig, LayerNormBackwardArgs> Load(Accelerator accelerator, bool? warps = null) =>
        accelerator.LoadStreamKernel<LayerNormBackwardArgs>(warps ?? GroupedRows.UsesWarps(accelerator) ? BackwardWarp : Backward);

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
