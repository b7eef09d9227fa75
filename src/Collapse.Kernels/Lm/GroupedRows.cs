using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

/// <summary>
/// What the GPU-shaped (explicitly grouped) transformer kernels in Lm/Shaped share: group sizes, and
/// the reductions over the lanes that serve one row (a "team") and over a whole group. A group of
/// G threads (a power of two) is G/L teams of L lanes; team k is threads k·L … k·L + L − 1.
/// </summary>
/// <remarks>
/// Three ways to reduce over a team (<see cref="RowTeam"/>), picked at load time by the kernel's generic
/// argument: <see cref="SoloTeam"/> (L = 1: no reduction, each thread sums its row left to right as the
/// plain kernels do; the CPU devices' default), <see cref="SharedTeam"/> (a tree in shared memory with
/// group barriers, L = min(<see cref="MaxLanes"/>, G): runs everywhere; OpenCL GPUs' default) and
/// <see cref="WarpTeam"/> (a butterfly of warp shuffles, L = the warp size, no barriers; CUDA's default; also
/// runs on the ILGPU CPU accelerator; ILGPU 1.5.3's OpenCL backend fails with an internal compiler error on a
/// shuffle under PoCL). Shared and warp teams give the same bits for the same L: lane l of the butterfly
/// adds v_l + v_(l xor o) for o = L/2 … 1, exactly the tree's pairs. Every reduction must be reached by every
/// thread of the group (the shared team's hold barriers), so row loops run the same number of times on every
/// team, with inactive teams reducing zeros.
/// </remarks>
static class GroupedRows
{
    /// <summary>Largest group the kernels take: the size of their shared scratch arrays.</summary>
    public const int MaxGroupSize = 1024;

    /// <summary>Most lanes per row for <see cref="SharedTeam"/> (a CUDA warp).</summary>
    public const int MaxLanes = 32;

    /// <summary>
    /// The group size of a launch: <paramref name="requested"/> when positive (a power of two within the
    /// accelerator's <see cref="Accelerator.MaxNumThreadsPerGroup"/> and <see cref="MaxGroupSize"/>), else the
    /// default for the accelerator: 1 on ILGPU's CPU accelerator, where a group barrier costs ~0.1 ms
    /// (its group threads are OS threads; 16 of them on 2 cores) and a group of one is the plain kernel's
    /// thread with the launches fused; the largest power of two up to <paramref name="hostCap"/> on an
    /// OpenCL device that is not a GPU (PoCL: a work-group is a loop on one core; 16 and 32 measured best
    /// with <see cref="RowTeam.Solo"/>, 128 already slower); up to <paramref name="gpuCap"/> elsewhere (CUDA, OpenCL GPUs).
    /// </summary>
    /// <remarks>
    /// PoCL (Debian 13's) never finishes <see cref="GroupedLayerNormKernels.Backward"/> (the shared-memory team) with
    /// work-groups of 1 or 2 threads (from 4 up it runs and passes); the defaults never ask for that.
    /// </remarks>
    public static int GroupSize(Accelerator accelerator, long gpuCap, int requested = 0, long hostCap = 16)
    {
        var limit = Math.Min(MaxGroupSize, accelerator.MaxNumThreadsPerGroup);
        if (requested > 0)
        {
            if (requested > limit || (requested & (requested - 1)) != 0)
                throw new ArgumentException($"group size {requested}: a power of two up to {limit} on {accelerator.Name}");
            return requested;
        }
        if (accelerator.AcceleratorType == AcceleratorType.CPU) return 1;
        var cap = Accelerators.LaunchSize.IsGpu(accelerator) ? gpuCap : hostCap;
        return FloorPowerOfTwo((int)Math.Max(1, Math.Min(cap, limit)));
    }

    /// <summary>Whether <see cref="WarpTeam"/> is the default: CUDA, where a warp is 32 lanes that shuffle without barriers.</summary>
    public static bool UsesWarps(Accelerator accelerator) =>
        accelerator.AcceleratorType == AcceleratorType.Cuda && accelerator.WarpSize is >= 2 and <= MaxGroupSize;

    /// <summary>
    /// The team a kernel is loaded with by default: <see cref="RowTeam.Warp"/> on CUDA, <see cref="RowTeam.Shared"/> on
    /// other GPUs (OpenCL), <see cref="RowTeam.Solo"/> on CPU devices (the ILGPU CPU accelerator, PoCL).
    /// </summary>
    public static RowTeam DefaultTeam(Accelerator accelerator) =>
        UsesWarps(accelerator) ? RowTeam.Warp : Accelerators.LaunchSize.IsGpu(accelerator) ? RowTeam.Shared : RowTeam.Solo;

    /// <summary>Lanes per row of <paramref name="team"/> in groups of <paramref name="groupSize"/> threads (what the kernel derives).</summary>
    public static int Lanes(Accelerator accelerator, RowTeam team, int groupSize) => team switch
    {
        RowTeam.Warp => accelerator.WarpSize,
        RowTeam.Shared => Math.Min(MaxLanes, groupSize),
        _ => 1,
    };

    /// <summary>
    /// Groups of <paramref name="size"/> threads that fill every multiprocessor (as <see cref="Accelerators.LaunchSize.For"/>), at
    /// least 1; on ILGPU's CPU accelerator one per multiprocessor, which runs its groups one after another: there, 2 one-thread
    /// groups striding over the items ran the LayerNorm and encoder backward (R = 1) 1.2–1.3× faster than 32 (2 cores).
    /// </summary>
    public static int FillingGroups(Accelerator accelerator, int size) =>
        accelerator.AcceleratorType == AcceleratorType.CPU ? Math.Max(1, accelerator.NumMultiprocessors)
        : (int)Math.Max(1, Math.Min(int.MaxValue / 2, (long)accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor / size));

    public static int FloorPowerOfTwo(int x)
    {
        var p = 1;
        while (p <= x / 2) p *= 2;
        return p;
    }

    public static int CeilingPowerOfTwo(long x)
    {
        var p = 1;
        while (p < x && p < int.MaxValue / 2) p *= 2;
        return p;
    }

    /// <summary>Σ over the whole group (every thread gets it), a tree in <paramref name="scratch"/> (≥ G entries). Group sizes that are powers of two.</summary>
    public static int GroupSum(int value, ArrayView<int> scratch)
    {
        var (index, size) = (Group.IdxX, Group.DimX);
        scratch[index] = value;
        Group.Barrier();
        for (var o = size / 2; o > 0; o /= 2)
        {
            if (index < o) scratch[index] += scratch[index + o];
            Group.Barrier();
        }
        var result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary><see cref="GroupSum(int, ArrayView{int})"/> in double.</summary>
    public static double GroupSum(double value, ArrayView<double> scratch)
    {
        var (index, size) = (Group.IdxX, Group.DimX);
        scratch[index] = value;
        Group.Barrier();
        for (var o = size / 2; o > 0; o /= 2)
        {
            if (index < o) scratch[index] += scratch[index + o];
            Group.Barrier();
        }
        var result = scratch[0];
        Group.Barrier();
        return result;
    }
}

/// <summary>How the lanes of one row reduce, i.e. which variant of a row kernel is loaded (see <see cref="GroupedRows"/>).</summary>
public enum RowTeam
{
    /// <summary>One lane per row, no reductions: <see cref="SoloTeam"/>.</summary>
    Solo,

    /// <summary>Up to 32 lanes per row, trees in shared memory: <see cref="SharedTeam"/>.</summary>
    Shared,

    /// <summary>A warp per row, shuffles: <see cref="WarpTeam"/>.</summary>
    Warp,
}

/// <summary>Two floats reduced together (one set of barriers for both).</summary>
struct FloatPair
{
    public float First, Second;

    public FloatPair(float first, float second) => (First, Second) = (first, second);
}

/// <summary>
/// How the lanes of one row reduce: called by every thread of the group at once (see
/// <see cref="GroupedRows"/>), each team reducing over its own lanes; every lane gets the result.
/// Scratch views hold at least the group size of floats (<see cref="WarpTeam"/> ignores them).
/// </summary>
interface IRowTeam
{
    /// <summary>Lanes per row in a group of <paramref name="groupSize"/> threads.</summary>
    int Lanes(int groupSize);

    float Max(float value, ArrayView<float> scratch, int lane, int lanes);

    float Sum(float value, ArrayView<float> scratch, int lane, int lanes);

    FloatPair Sum(FloatPair value, ArrayView<float> first, ArrayView<float> second, int lane, int lanes);
}

/// <summary>Team reductions as trees in shared memory, with group barriers: L = min(<see cref="GroupedRows.MaxLanes"/>, G).</summary>
struct SharedTeam : IRowTeam
{
    public int Lanes(int groupSize) => Math.Min(GroupedRows.MaxLanes, groupSize);

    public float Max(float value, ArrayView<float> scratch, int lane, int lanes)
    {
        var index = Group.IdxX;
        scratch[index] = value;
        Group.Barrier();
        for (var o = lanes / 2; o > 0; o /= 2)
        {
            if (lane < o) scratch[index] = MathF.Max(scratch[index], scratch[index + o]);
            Group.Barrier();
        }
        var result = scratch[index - lane];
        Group.Barrier();
        return result;
    }

    public float Sum(float value, ArrayView<float> scratch, int lane, int lanes)
    {
        var index = Group.IdxX;
        scratch[index] = value;
        Group.Barrier();
        for (var o = lanes / 2; o > 0; o /= 2)
        {
            if (lane < o) scratch[index] += scratch[index + o];
            Group.Barrier();
        }
        var result = scratch[index - lane];
        Group.Barrier();
        return result;
    }

    public FloatPair Sum(FloatPair value, ArrayView<float> first, ArrayView<float> second, int lane, int lanes)
    {
        var index = Group.IdxX;
        first[index] = value.First;
        second[index] = value.Second;
        Group.Barrier();
        for (var o = lanes / 2; o > 0; o /= 2)
        {
            if (lane < o)
            {
                first[index] += first[index + o];
                second[index] += second[index + o];
            }
            Group.Barrier();
        }
        var result = new FloatPair(first[index - lane], second[index - lane]);
        Group.Barrier();
        return result;
    }
}

/// <summary>
/// One lane per row (L = 1): the reductions are the value itself, with no barriers, so a thread sums its
/// row left to right exactly as the plain kernels do. For CPU devices, where a group's threads are a
/// core's loop (PoCL) or OS threads (the ILGPU CPU accelerator) and splitting a row costs more than it saves.
/// </summary>
struct SoloTeam : IRowTeam
{
    public int Lanes(int groupSize) => 1;

    public float Max(float value, ArrayView<float> scratch, int lane, int lanes) => value;

    public float Sum(float value, ArrayView<float> scratch, int lane, int lanes) => value;

    public FloatPair Sum(FloatPair value, ArrayView<float> first, ArrayView<float> second, int lane, int lanes) => value;
}

/// <summary>Team reductions as warp-shuffle butterflies: L = the warp size, no barriers (group sizes a multiple of the warp).</summary>
struct WarpTeam : IRowTeam
{
    public int Lanes(int groupSize) => Warp.WarpSize;

    public float Max(float value, ArrayView<float> scratch, int lane, int lanes)
    {
        for (var o = lanes / 2; o > 0; o /= 2) value = MathF.Max(value, Warp.ShuffleXor(value, o));
        return value;
    }

    public float Sum(float value, ArrayView<float> scratch, int lane, int lanes)
    {
        for (var o = lanes / 2; o > 0; o /= 2) value += Warp.ShuffleXor(value, o);
        return value;
    }

    public FloatPair Sum(FloatPair value, ArrayView<float> first, ArrayView<float> second, int lane, int lanes)
    {
        for (var o = lanes / 2; o > 0; o /= 2)
        {
            value.First += Warp.ShuffleXor(value.First, o);
            value.Second += Warp.ShuffleXor(value.Second, o);
        }
        return value;
    }
}
