using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>A training batch gathered on the device from a token set kept there, so a step copies nothing from the host.</summary>
static class BatchKernels
{
    /// <summary>
    /// tokens[r, i, :] = inputs of row orders[slot, r, k] of replicate r's set (targets alike), for the size rows
    /// i of a step starting at global position first: position g = first + i is entry k = g − epochBase − slot·m
    /// of epoch slot (g − epochBase) / m, 0 or 1 (a step may cross one epoch boundary). Sets are
    /// [sets][m][T] (one shared set, or one per replicate); orders [2][R][m]; tokens and targets [R][size][T].
    /// One thread per token.
    /// </summary>
    public static void GatherRows(Index1D thread, ArrayView<int> setInputs, ArrayView<int> setTargets, ArrayView<int> orders, int sets, int m, int T,
        long first, int size, long epochBase, ArrayView<int> tokens, ArrayView<int> targets, int stride)
    {
        var replicates = tokens.Length / ((long)size * T);
        for (long item = thread; item < tokens.Length; item += stride)
        {
            var t = (int)(item % T);
            var i = (int)(item / T % size);
            var r = item / ((long)size * T);
            var g = first + i - epochBase;
            var slot = g / m;
            var k = g - slot * m;
            var row = orders[(slot * replicates + r) * m + k];
            var source = ((sets == 1 ? 0 : r) * m + row) * T + t;
            tokens[item] = setInputs[source];
            targets[item] = setTargets[source];
        }
    }
}
