using Collapse.Kernels.Accelerators;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// Softmax cross-entropy with an ignored target value (−1: positions after the end of a name,
// makemore's padding), batched over replicates. Logits and targets are [R][N][V] and [R][N]. The
// loss of a replicate is the mean over its predicted positions, torch's ignore_index mean. The CPU
// path runs these kernels on host threads: they are light next to the matrix products.

static class CrossEntropyKernels
{
    public const int Ignore = -1;

    /// <summary>
    /// counts[r] = predicted positions of replicate r, scale[r] = 1/counts[r] (0 when none), the
    /// factor of d(mean loss)/dlogits. One item per replicate.
    /// </summary>
    public static void CountTargets(Index1D thread, CrossEntropyArgs a, int stride)
    {
        for (long r = thread; r < a.Counts.Length; r += stride)
        {
            var count = 0;
            for (long n = 0; n < a.RowsPerReplicate; n++)
                if (a.Targets[r * a.RowsPerReplicate + n] != Ignore) count++;
            a.Counts[r] = count;
            a.Scale[r] = count > 0 ? 1.0f / count : 0.0f;
        }
    }

    /// <summary>
    /// Per row: loss = log Σ exp(logit) − logit[target] (0 on ignored rows) into losses, and, when
    /// WriteGradient ≠ 0, the logits are overwritten by their gradient (softmax − onehot(target))·scale[r]
    /// (0 on ignored rows): forward and backward fused, so the probabilities are never stored. One item per row.
    /// </summary>
    public static void ForwardBackward(Index1D thread, CrossEntropyArgs a, int stride)
    {
        var (logits, targets, scale, losses, vocab) = (a.Logits, a.Targets, a.Scale, a.Losses, a.Vocab);
        for (long row = thread; row < losses.Length; row += stride)
        {
            var x = row * vocab;
            var max = float.NegativeInfinity;
            for (var v = 0; v < vocab; v++) max = MathF.Max(max, logits[x + v]);
            var sum = 0.0f;
            for (var v = 0; v < vocab; v++) sum += MathF.Exp(logits[x + v] - max);
            var target = targets[row];
            losses[row] = target == Ignore ? 0.0f : MathF.Log(sum) + max - logits[x + target];
            if (a.WriteGradient == 0) continue;
            var factor = target == Ignore ? 0.0f : scale[row / a.RowsPerReplicate] / sum;
            for (var v = 0; v < vocab; v++)
            {
                var p = MathF.Exp(logits[x + v] - max) * factor;
                logits[x + v] = v == target ? p - scale[row / a.RowsPerReplicate] : p;
            }
        }
    }

    /// <summary>sums[r] = Σ_n losses[r][n] in double (ignored rows hold 0). One item per replicate.</summary>
    public static void SumLosses(Index1D thread, CrossEntropyArgs a, int stride)
    {
        for (long r = thread; r < a.Sums.Length; r += stride)
        {
            var sum = 0.0;
            for (long n = 0; n < a.RowsPerReplicate; n++) sum += a.Losses[r * a.RowsPerReplicate + n];
            a.Sums[r] = sum;
        }
    }
}

/// <summary>
/// The arguments of <see cref="GroupedCrossEntropyKernels.ForwardBackward"/>: softmax cross-entropy of
/// R replicates with ignored targets (<see cref="CrossEntropyKernels.Ignore"/>), as the plain
/// CountTargets, CrossEntropy and SumLosses take them together.
/// </summary>
public struct CrossEntropyArgs
{
    /// <summary>[R][N][V]; overwritten by d(mean loss)/dlogits when <see cref="WriteGradient"/> ≠ 0.</summary>
    public ArrayView<float> Logits;

    /// <summary>[R][N], −1 for an ignored position.</summary>
    public ArrayView<int> Targets;

    /// <summary>[R]: predicted (not ignored) positions per replicate (written).</summary>
    public ArrayView<int> Counts;

    /// <summary>[R]: 1/counts[r], 0 when none (written).</summary>
    public ArrayView<float> Scale;

    /// <summary>[R][N]: each row's loss, 0 on ignored rows (written).</summary>
    public ArrayView<float> Losses;

    /// <summary>[R]: Σ_n losses[r][n] in double (written).</summary>
    public ArrayView<double> Sums;

    /// <summary>N, rows per replicate.</summary>
    public long RowsPerReplicate;

    /// <summary>V; and nonzero to write the gradient in place of the logits.</summary>
    public int Vocab, WriteGradient;
}

/// <summary>
/// Cross-entropy in one launch instead of CountTargets + ForwardBackward + SumLosses: one group per
/// replicate (launch R groups). The group counts its replicate's predicted targets (a group sum) and
/// writes counts[r] and scale[r] = 1/counts[r] as <see cref="CrossEntropyKernels.CountTargets"/>; then
/// its teams of lanes (see <see cref="GroupedRows"/>) take one row each at a time: max and Σ exp(logit − max)
/// over the vocabulary by team reductions (float, the max subtracted, as
/// <see cref="CrossEntropyKernels.ForwardBackward"/>), the loss written by the lane that holds the target
/// (so it reads logits[target] before its gradient replaces it), and, when asked, the gradient
/// (softmax − onehot)·scale[r] in place; last the group's sum of its losses in double into sums[r].
/// </summary>
/// <remarks>
/// Counts, scale and max are exactly the plain kernels'; Σ exp is summed as a tree over the lanes
/// instead of left to right (with the solo team, one lane per row, left to right: the plain bits), so
/// losses and gradients can differ from the plain kernel's in the last bits, and sums[r] is summed in
/// another order (each thread's rows, then a tree over the group; the plain order in groups of one).
/// </remarks>
static class GroupedCrossEntropyKernels
{
    /// <summary>The portable kernel: team reductions in shared memory (<see cref="SharedTeam"/>).</summary>
    public static void ForwardBackward(CrossEntropyArgs a) => Run<SharedTeam>(a);

    /// <summary>The same kernel with warp-shuffle team reductions (<see cref="WarpTeam"/>): CUDA and the ILGPU CPU accelerator.</summary>
    public static void ForwardBackwardWarp(CrossEntropyArgs a) => Run<WarpTeam>(a);

    /// <summary>The same kernel with one lane per row (<see cref="SoloTeam"/>): no barriers in the rows; for CPU devices.</summary>
    public static void ForwardBackwardSolo(CrossEntropyArgs a) => Run<SoloTeam>(a);

    /// <summary>
    /// R groups of G threads (<see cref="GroupedRows.GroupSize"/>): on a GPU a team per row up to N rows, G ≤ 1024; 16 on
    /// PoCL, 1 on the ILGPU CPU accelerator; <paramref name="groupSize"/> &gt; 0 instead (a power of two, a multiple of the
    /// warp for <see cref="ForwardBackwardWarp"/>).
    /// </summary>
    public static KernelConfig ForwardBackwardConfig(Accelerator accelerator, in CrossEntropyArgs a, int groupSize = 0)
    {
        if (a.Counts.Length <= 0 || a.RowsPerReplicate <= 0 || a.Vocab <= 0) throw new ArgumentException("empty cross-entropy");
        var team = GroupedRows.DefaultTeam(accelerator);
        var lanes = team == RowTeam.Solo ? 1 : GroupedRows.Lanes(accelerator, team, GroupedRows.MaxGroupSize);
        var size = GroupedRows.GroupSize(accelerator, GroupedRows.CeilingPowerOfTwo(a.RowsPerReplicate) * (long)lanes, groupSize);
        return new KernelConfig((int)a.Counts.Length, size);
    }

    /// <summary>
    /// The kernel with <paramref name="team"/>'s reductions (default <see cref="GroupedRows.DefaultTeam"/>): <see cref="ForwardBackward"/>,
    /// <see cref="ForwardBackwardWarp"/> or <see cref="ForwardBackwardSolo"/>. The warp variant needs groups of a multiple of the warp
    /// size (the default config's on CUDA; elsewhere pass a group size to <see cref="ForwardBackwardConfig"/>).
    /// </summary>
    public static Action<KernelConfig, CrossEntropyArgs> Load(Accelerator accelerator, RowTeam? team = null) =>
        accelerator.LoadStreamKernel(Kernel(team ?? GroupedRows.DefaultTeam(accelerator))).Serialized(accelerator);

    public static Action<CrossEntropyArgs> Kernel(RowTeam team) => team switch
    {
        RowTeam.Warp => ForwardBackwardWarp,
        RowTeam.Shared => ForwardBackward,
        _ => ForwardBackwardSolo,
    };

    static void Run<TTeam>(CrossEntropyArgs a) where TTeam : struct, IRowTeam
    {
        var floats = SharedMemory.Allocate<float>(GroupedRows.MaxGroupSize);
        var ints = SharedMemory.Allocate<int>(GroupedRows.MaxGroupSize);
        var doubles = SharedMemory.Allocate<double>(GroupedRows.MaxGroupSize);
        var team = default(TTeam);
        var (index, size) = (Group.IdxX, Group.DimX);
        var lanes = team.Lanes(size);
        var (lane, which, teams) = (index % lanes, index / lanes, size / lanes);
        var (n, vocab) = (a.RowsPerReplicate, a.Vocab);
        for (var r = Grid.IdxX; r < a.Counts.Length; r += Grid.DimX)
        {
            var firstRow = r * n;
            var count = 0;
            for (var i = (long)index; i < n; i += size)
                if (a.Targets[firstRow + i] != CrossEntropyKernels.Ignore) count++;
            count = GroupedRows.GroupSum(count, ints);
            var scale = count > 0 ? 1.0f / count : 0.0f;
            if (index == 0)
            {
                a.Counts[r] = count;
                a.Scale[r] = scale;
            }
            var lossSum = 0.0;
            // Every team runs the same number of passes (the reductions hold barriers).
            for (var start = 0L; start < n; start += teams)
            {
                var i = start + which;
                var active = which < teams && i < n;
                var row = firstRow + i;
                var x = row * vocab;
                var max = float.NegativeInfinity;
                if (active)
                    for (var v = lane; v < vocab; v += lanes) max = MathF.Max(max, a.Logits[x + v]);
                max = team.Max(max, floats, lane, lanes);
                var sum = 0.0f;
                if (active)
                    for (var v = lane; v < vocab; v += lanes) sum += MathF.Exp(a.Logits[x + v] - max);
                sum = team.Sum(sum, floats, lane, lanes);
                if (!active) continue;
                var target = a.Targets[row];
                // The lane that holds logits[target] (lane 0 for an ignored row) writes the loss, before any gradient replaces it.
                if (lane == (target == CrossEntropyKernels.Ignore ? 0 : target % lanes))
                {
                    var loss = target == CrossEntropyKernels.Ignore ? 0.0f : MathF.Log(sum) + max - a.Logits[x + target];
                    a.Losses[row] = loss;
                    lossSum += loss;
                }
                if (a.WriteGradient == 0) continue;
                var factor = target == CrossEntropyKernels.Ignore ? 0.0f : scale / sum;
                for (var v = lane; v < vocab; v += lanes)
                {
                    var p = MathF.Exp(a.Logits[x + v] - max) * factor;
                    a.Logits[x + v] = v == target ? p - scale : p;
                }
            }
            lossSum = GroupedRows.GroupSum(lossSum, doubles);
            if (index == 0) a.Sums[r] = lossSum;
        }
    }
}

public sealed partial class LmKernels
{
    /// <summary>
    /// The loss of a forward with targets: counts and scale per replicate, losses [R][N], their sums per replicate, and
    /// with <paramref name="writeGradient"/> d(mean loss)/dlogits in place of the logits.
    /// </summary>
    public void CrossEntropyLoss(ArrayView<float> logits, ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale,
        ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate, int vocab, bool writeGradient) =>
        crossEntropyLossOp(new CrossEntropyArgs
        {
            Logits = logits, Targets = targets, Counts = counts, Scale = scale, Losses = losses, Sums = sums,
            RowsPerReplicate = rowsPerReplicate, Vocab = vocab, WriteGradient = writeGradient ? 1 : 0,
        });

    /// <summary>The CPU path's and the plain version: the count, the rows, the sums, one kernel each (on host threads on the CPU path).</summary>
    void CrossEntropyLossStepwise(CrossEntropyArgs a)
    {
        Launch(countTargets, a.Counts.Length, a);
        Launch(crossEntropy, a.Losses.Length, a);
        Launch(sumLosses, a.Sums.Length, a);
    }

    void CrossEntropyLossShaped(CrossEntropyArgs a) => groupedCrossEntropy(GroupedCrossEntropyKernels.ForwardBackwardConfig(accelerator, a), a);

    /// <summary>counts[r] and scale[r] = 1/counts[r] from targets [R][N].</summary>
    public void CountTargets(ArrayView<int> targets, ArrayView<int> counts, ArrayView<float> scale, long rowsPerReplicate) =>
        Launch(countTargets, counts.Length, new CrossEntropyArgs { Targets = targets, Counts = counts, Scale = scale, RowsPerReplicate = rowsPerReplicate });

    /// <summary>losses [R][N]; with <paramref name="writeGradient"/>, logits become d(mean loss)/dlogits.</summary>
    public void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> scale, ArrayView<float> losses,
        long rowsPerReplicate, int vocab, bool writeGradient) =>
        Launch(crossEntropy, losses.Length, new CrossEntropyArgs
        {
            Logits = logits, Targets = targets, Scale = scale, Losses = losses, RowsPerReplicate = rowsPerReplicate, Vocab = vocab,
            WriteGradient = writeGradient ? 1 : 0,
        });

    /// <summary>sums[r] = Σ_n losses[r][n], in double.</summary>
    public void SumLosses(ArrayView<float> losses, ArrayView<double> sums, long rowsPerReplicate) =>
        Launch(sumLosses, sums.Length, new CrossEntropyArgs { Losses = losses, Sums = sums, RowsPerReplicate = rowsPerReplicate });
}
