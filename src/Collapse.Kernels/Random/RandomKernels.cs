using Collapse.Kernels.Accelerators;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Random;

/// <summary>
/// Counter-based generator kernels, batched over replicates: replicate r of a batch draws from
/// <c>stream.ForReplicate(firstReplicate + r)</c>, so numbers never depend on how replicates are
/// batched, on the launch size or on chunking.
/// </summary>
public sealed class RandomKernels
{
    readonly Accelerator accelerator;
    readonly Action<Index1D, RandomStream, int, long, long, ArrayView<float>> normals;
    readonly Action<Index1D, RandomStream, int, long, long, ArrayView<float>> uniforms;
    readonly Action<Index1D, RandomStream, int, long, uint, long, ArrayView<int>> integers;
    readonly Action<Index1D, RandomStream, int, int, int, int, int, ArrayView<int>, ArrayView<int>> withoutReplacement;

    public RandomKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        normals = accelerator.LoadAutoGroupedStreamKernel<Index1D, RandomStream, int, long, long, ArrayView<float>>(NormalsKernel).Serialized(accelerator);
        uniforms = accelerator.LoadAutoGroupedStreamKernel<Index1D, RandomStream, int, long, long, ArrayView<float>>(UniformsKernel).Serialized(accelerator);
        integers = accelerator.LoadAutoGroupedStreamKernel<Index1D, RandomStream, int, long, uint, long, ArrayView<int>>(IntegersKernel).Serialized(accelerator);
        withoutReplacement = accelerator.LoadAutoGroupedStreamKernel<Index1D, RandomStream, int, int, int, int, int, ArrayView<int>, ArrayView<int>>(WithoutReplacementKernel).Serialized(accelerator);
    }

    /// <summary>Fills <paramref name="output"/> (replicates × count) with standard normals.</summary>
    public void Normals(RandomStream stream, int firstReplicate, int replicates, long count, ArrayView<float> output)
    {
        var blocksPerReplicate = (count + 31) / 32 * 8;
        var threads = LaunchSize.For(accelerator, replicates * blocksPerReplicate);
        normals(threads, stream, firstReplicate, count, threads, output);
    }

    /// <summary>Fills <paramref name="output"/> (replicates × count) with uniforms in [0, 1).</summary>
    public void Uniforms(RandomStream stream, int firstReplicate, int replicates, long count, ArrayView<float> output)
    {
        var threads = LaunchSize.For(accelerator, replicates * ((count + 3) / 4));
        uniforms(threads, stream, firstReplicate, count, threads, output);
    }

    /// <summary>Fills <paramref name="output"/> (replicates × count) with integers uniform in [0, bound).</summary>
    public void Integers(RandomStream stream, int firstReplicate, int replicates, long count, uint bound, ArrayView<int> output)
    {
        var threads = LaunchSize.For(accelerator, replicates * count);
        integers(threads, stream, firstReplicate, count, bound, threads, output);
    }

    /// <summary>
    /// For each replicate, <paramref name="count"/> distinct indices drawn uniformly from
    /// [0, <paramref name="population"/>) (Floyd's algorithm; a uniformly random subset, listed in
    /// the order Floyd's algorithm produces). <paramref name="workspace"/> holds
    /// replicates × <see cref="WorkspaceSize"/> ints.
    /// </summary>
    public void WithoutReplacement(RandomStream stream, int firstReplicate, int replicates, int population, int count,
        ArrayView<int> output, ArrayView<int> workspace)
    {
        if (count > population)
            throw new ArgumentOutOfRangeException(nameof(count), $"cannot draw {count} distinct items from {population}");
        var threads = LaunchSize.For(accelerator, replicates);
        withoutReplacement(threads, stream, firstReplicate, replicates, population, count, threads, output, workspace);
    }

    /// <summary>Hash-table size Floyd's algorithm uses for <paramref name="count"/> items: a power of two ≥ 2·count.</summary>
    public static int WorkspaceSize(int count)
    {
        var size = 2;
        while (size < 2 * count) size <<= 1;
        return size;
    }

    static void NormalsKernel(Index1D thread, RandomStream stream, int firstReplicate, long count, long stride, ArrayView<float> output)
    {
        // One Philox block per item; its four normals land 8 apart (see Philox.Normal).
        var blocksPerReplicate = ((count + 31) / 32) * 8;
        var total = blocksPerReplicate * (output.Length / count);
        for (long item = thread; item < total; item += stride)
        {
            var r = item / blocksPerReplicate;
            var block = item - r * blocksPerReplicate;
            var bits = stream.ForReplicate((uint)(firstReplicate + r)).Block((ulong)block);
            Philox.BoxMuller(bits.X, bits.Y, out var z0, out var z1);
            Philox.BoxMuller(bits.Z, bits.W, out var z2, out var z3);
            var i = (block >> 3) * 32 + (block & 7);
            var baseIndex = r * count;
            if (i < count) output[baseIndex + i] = z0;
            if (i + 8 < count) output[baseIndex + i + 8] = z1;
            if (i + 16 < count) output[baseIndex + i + 16] = z2;
            if (i + 24 < count) output[baseIndex + i + 24] = z3;
        }
    }

    static void UniformsKernel(Index1D thread, RandomStream stream, int firstReplicate, long count, long stride, ArrayView<float> output)
    {
        var blocksPerReplicate = (count + 3) / 4;
        var total = blocksPerReplicate * (output.Length / count);
        for (long item = thread; item < total; item += stride)
        {
            var r = item / blocksPerReplicate;
            var block = item - r * blocksPerReplicate;
            var bits = stream.ForReplicate((uint)(firstReplicate + r)).Block((ulong)block);
            var i = block * 4;
            var baseIndex = r * count;
            output[baseIndex + i] = Philox.Uniform(bits.X);
            if (i + 1 < count) output[baseIndex + i + 1] = Philox.Uniform(bits.Y);
            if (i + 2 < count) output[baseIndex + i + 2] = Philox.Uniform(bits.Z);
            if (i + 3 < count) output[baseIndex + i + 3] = Philox.Uniform(bits.W);
        }
    }

    static void IntegersKernel(Index1D thread, RandomStream stream, int firstReplicate, long count, uint bound, long stride, ArrayView<int> output)
    {
        for (long item = thread; item < output.Length; item += stride)
        {
            var r = item / count;
            var i = item - r * count;
            output[item] = (int)Philox.UniformIntAt(stream.ForReplicate((uint)(firstReplicate + r)), (ulong)i, bound);
        }
    }

    internal static void WithoutReplacementKernel(Index1D thread, RandomStream stream, int firstReplicate, int replicates,
        int population, int count, int stride, ArrayView<int> output, ArrayView<int> workspace)
    {
        var tableSize = WorkspaceSize(count);
        for (var r = thread.X; r < replicates; r += stride)
        {
            var table = workspace.SubView((long)r * tableSize, tableSize);
            for (var s = 0; s < tableSize; s++) table[s] = 0;
            var replicateStream = stream.ForReplicate((uint)(firstReplicate + r));
            for (var step = 0; step < count; step++)
            {
                var j = population - count + step;
                var candidate = (int)Philox.UniformIntAt(replicateStream, (ulong)step, (uint)(j + 1));
                // Floyd: take the candidate unless already taken, then take j (never taken before).
                var chosen = Contains(table, tableSize, candidate) ? j : candidate;
                Insert(table, tableSize, chosen);
                output[(long)r * count + step] = chosen;
            }
        }
    }

    // Open addressing with linear probing; slots hold value + 1 so that 0 means empty.
    static int Slot(int value, int tableSize) => (int)(((uint)value * 0x9E3779B1u) & (uint)(tableSize - 1));

    static bool Contains(ArrayView<int> table, int tableSize, int value)
    {
        for (var s = Slot(value, tableSize); ; s = (s + 1) & (tableSize - 1))
        {
            var v = table[s];
            if (v == 0) return false;
            if (v == value + 1) return true;
        }
    }

    static void Insert(ArrayView<int> table, int tableSize, int value)
    {
        var s = Slot(value, tableSize);
        while (table[s] != 0) s = (s + 1) & (tableSize - 1);
        table[s] = value + 1;
    }
}
