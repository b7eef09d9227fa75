namespace Collapse.Engine.Families;

/// <summary>
/// Counter-based draws over host-side lists (the language model's names, the mix study's orders, host pools):
/// every number is a pure function of the stream and its index, as on the device.
/// </summary>
public static class HostSampling
{
    /// <summary>
    /// <paramref name="count"/> distinct indices of [0, <paramref name="population"/>) by Floyd's
    /// algorithm, step s drawing integer s of the stream: the same indices, in the same order, as
    /// <see cref="RandomKernels.WithoutReplacement"/> draws for this replicate.
    /// </summary>
    public static int[] WithoutReplacement(RandomStream stream, int population, int count)
    {
        if (count < 0 || count > population) throw new ArgumentOutOfRangeException(nameof(count), $"cannot draw {count} distinct items from {population}");
        var taken = new HashSet<int>(count);
        var chosen = new int[count];
        for (var step = 0; step < count; step++)
        {
            var j = population - count + step;
            var candidate = (int)Philox.UniformIntAt(stream, (ulong)step, (uint)(j + 1));
            var pick = taken.Contains(candidate) ? j : candidate;
            taken.Add(pick);
            chosen[step] = pick;
        }
        return chosen;
    }

    /// <summary>
    /// A uniformly random permutation of [0, <paramref name="count"/>) (Fisher–Yates), drawing integers
    /// <paramref name="offset"/> … offset + count − 2 of the stream (distinct offsets: independent permutations).
    /// </summary>
    public static int[] Permutation(RandomStream stream, int count, ulong offset = 0)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++) order[i] = i;
        for (var i = count - 1; i > 0; i--)
        {
            var j = (int)Philox.UniformIntAt(stream, offset + (ulong)(count - 1 - i), (uint)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
