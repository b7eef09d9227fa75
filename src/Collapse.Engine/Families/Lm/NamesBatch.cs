namespace Collapse.Engine.Families.Lm;

/// <summary>
/// Documents (names) per replicate as token sequences without start or end token, on the host:
/// a language model's data are small beside its activations, and training gathers its batches on
/// the host anyway. Immutable, so one batch may be handed out more than once.
/// </summary>
public sealed class NamesBatch(int[][][] names) : IDataBatch
{
    /// <summary>[replicate][document] → tokens.</summary>
    public int[][][] Names { get; } = names.Length > 0 && names.All(r => r.Length == names[0].Length)
        ? names : throw new ArgumentException("every replicate must hold the same number of documents", nameof(names));

    public int Count => Names[0].Length;

    public int Replicates => Names.Length;

    /// <summary>The first <paramref name="countA"/> documents of <paramref name="a"/> then the first <paramref name="countB"/> of <paramref name="b"/>, per replicate.</summary>
    public static NamesBatch Concat(NamesBatch a, int countA, NamesBatch b, int countB)
    {
        if (a.Replicates != b.Replicates) throw new ArgumentException($"batches of {a.Replicates} and {b.Replicates} replicates");
        if (countA < 0 || countA > a.Count) throw new ArgumentOutOfRangeException(nameof(countA), countA, $"0 … {a.Count}");
        if (countB < 0 || countB > b.Count) throw new ArgumentOutOfRangeException(nameof(countB), countB, $"0 … {b.Count}");
        return new NamesBatch([.. Enumerable.Range(0, a.Replicates).Select(r => a.Names[r].Take(countA).Concat(b.Names[r].Take(countB)).ToArray())]);
    }

    public void Dispose()
    {
    }
}

/// <summary>Accumulate-Subsample's pool of documents: every generation so far, per replicate.</summary>
public sealed class NamesPool(int replicates, long capacity, uint seed, int firstReplicate) : IDataPool<NamesBatch>
{
    readonly List<int[]>[] pool = [.. Enumerable.Range(0, replicates).Select(_ => new List<int[]>())];

    public long Size => pool[0].Count;

    public void Add(NamesBatch names)
    {
        if (names.Replicates != replicates)
            throw new ArgumentException($"a names pool of {replicates} replicates holds names batches of as many", nameof(names));
        if (Size + names.Count > capacity) throw new InvalidOperationException($"pool capacity {capacity} exceeded");
        for (var r = 0; r < replicates; r++) pool[r].AddRange(names.Names[r]);
    }

    /// <summary>
    /// count documents per replicate without replacement, replicate r drawing from
    /// (seed, firstReplicate + r, iteration, <see cref="RandomStreams.Subsample"/>) as the point pools do.
    /// </summary>
    public NamesBatch Subsample(int count, int iteration)
    {
        if (count > Size) throw new InvalidOperationException($"cannot subsample {count} of a pool of {Size}");
        var names = new int[replicates][][];
        Parallel.For(0, replicates, r =>
        {
            var stream = new RandomStream(seed, (uint)(firstReplicate + r), (uint)iteration, RandomStreams.Subsample);
            names[r] = [.. HostSampling.WithoutReplacement(stream, (int)Size, count).Select(i => pool[r][i])];
        });
        return new NamesBatch(names);
    }

    public void Dispose()
    {
    }
}
