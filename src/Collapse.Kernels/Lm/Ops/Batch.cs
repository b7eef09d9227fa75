using ILGPU;

namespace Collapse.Kernels.Lm;

// A step's batch gathered on the device from a token set kept there, so a step copies nothing from the host.

/// <summary>Arguments of <see cref="BatchKernels.GatherRows"/>.</summary>
public struct GatherArgs
{
    /// <summary>The token set [sets][m][T] (one shared set, or one per replicate) and its rows' orders [2][R][m].</summary>
    public ArrayView<int> SetInputs, SetTargets, Orders;
    public int Sets, M, T;
    /// <summary>The step's first global position, its rows, and the position its first epoch starts at.</summary>
    public long First;
    public int Size;
    public long EpochBase;
    /// <summary>Outputs [R][size][T].</summary>
    public ArrayView<int> Tokens, Targets;
}

static class BatchKernels
{
    /// <summary>
    /// tokens[r, i, :] = inputs of row orders[slot, r, k] of replicate r's set (targets alike), for the size rows
    /// i of a step starting at global position first: position g = first + i is entry k = g − epochBase − slot·m
    /// of epoch slot (g − epochBase) / m, 0 or 1 (a step may cross one epoch boundary). One thread per token.
    /// </summary>
    public static void GatherRows(Index1D thread, GatherArgs a, int stride)
    {
        var replicates = a.Tokens.Length / ((long)a.Size * a.T);
        for (long item = thread; item < a.Tokens.Length; item += stride)
        {
            var t = (int)(item % a.T);
            var i = (int)(item / a.T % a.Size);
            var r = item / ((long)a.Size * a.T);
            var g = a.First + i - a.EpochBase;
            var slot = g / a.M;
            var k = g - slot * a.M;
            var row = a.Orders[(slot * replicates + r) * a.M + k];
            var source = ((a.Sets == 1 ? 0 : r) * a.M + row) * a.T + t;
            a.Tokens[item] = a.SetInputs[source];
            a.Targets[item] = a.SetTargets[source];
        }
    }
}

public sealed partial class LmKernels
{
    /// <summary>A step's rows from a token set on the device: tokens and targets [R][size][T]. Every version runs the one kernel.</summary>
    public void GatherRows(ArrayView<int> setInputs, ArrayView<int> setTargets, ArrayView<int> orders, int sets, int m, int blockSize,
        long first, int size, long epochBase, ArrayView<int> tokens, ArrayView<int> targets) =>
        Launch(gatherRows, tokens.Length, new GatherArgs
        {
            SetInputs = setInputs, SetTargets = setTargets, Orders = orders, Sets = sets, M = m, T = blockSize,
            First = first, Size = size, EpochBase = epochBase, Tokens = tokens, Targets = targets,
        });
}
