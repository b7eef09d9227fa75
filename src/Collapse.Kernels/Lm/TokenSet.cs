namespace Collapse.Kernels.Lm;

/// <summary>
/// Encoded sequences as the model trains on them (makemore's CharDataset): each sequence of
/// character tokens (1 … V−1) becomes a row pair of block-size length,
/// inputs  = [0, c1, …, ck, 0, …, 0] (0 is the start token, then padding) and
/// targets = [c1, …, ck, 0, −1, …, −1] (0 is the end token, −1 is not predicted).
/// A set holds <see cref="Sets"/> × <see cref="Count"/> rows: one set shared by every replicate
/// (the real test names) or one per replicate (each seed's own training data).
/// </summary>
public sealed class TokenSet
{
    public const int EndToken = 0, Ignore = -1;

    public int BlockSize { get; }
    public int Sets { get; }
    public int Count { get; }

    /// <summary>[Sets][Count][BlockSize].</summary>
    public int[] Inputs { get; }

    /// <summary>[Sets][Count][BlockSize].</summary>
    public int[] Targets { get; }

    TokenSet(int blockSize, int sets, int count)
    {
        (BlockSize, Sets, Count) = (blockSize, sets, count);
        Inputs = new int[(long)sets * count * blockSize];
        Targets = new int[(long)sets * count * blockSize];
    }

    /// <summary>Encodes one list of sequences per set (all lists the same length); a sequence longer than blockSize − 1 is an error.</summary>
    public static TokenSet Encode(IReadOnlyList<IReadOnlyList<int[]>> sequencesPerSet, int blockSize)
    {
        var count = sequencesPerSet[0].Count;
        if (sequencesPerSet.Any(s => s.Count != count)) throw new ArgumentException("every set must hold the same number of sequences");
        var set = new TokenSet(blockSize, sequencesPerSet.Count, count);
        for (var s = 0; s < set.Sets; s++)
            for (var i = 0; i < count; i++)
            {
                var sequence = sequencesPerSet[s][i];
                if (sequence.Length > blockSize - 1)
                    throw new ArgumentException($"sequence {i} of set {s} has {sequence.Length} tokens; the block size {blockSize} allows {blockSize - 1}");
                var row = ((long)s * count + i) * blockSize;
                for (var t = 0; t < blockSize; t++)
                {
                    set.Inputs[row + t] = t == 0 ? EndToken : t - 1 < sequence.Length ? sequence[t - 1] : EndToken;
                    set.Targets[row + t] = t < sequence.Length ? sequence[t] : t == sequence.Length ? EndToken : Ignore;
                }
            }
        return set;
    }

    /// <summary>The same sequences for one set shared by all replicates.</summary>
    public static TokenSet Encode(IReadOnlyList<int[]> sequences, int blockSize) => Encode([sequences], blockSize);

    /// <summary>Row <paramref name="index"/> of the set replicate r reads (its own, or the shared one).</summary>
    public long RowOf(int replicate, int index) => ((long)(Sets == 1 ? 0 : replicate) * Count + index) * BlockSize;

    /// <summary>The characters of a sampled or encoded input row: the tokens after the start token up to the first end token.</summary>
    public static int[] Sequence(ReadOnlySpan<int> row)
    {
        var end = row[1..].IndexOf(EndToken);
        return row[1..(end < 0 ? row.Length : end + 1)].ToArray();
    }
}
