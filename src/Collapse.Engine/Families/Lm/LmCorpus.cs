using System.Security.Cryptography;
using System.Text;
using Collapse.Engine.Sweeps;
using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Families.Lm;

/// <summary>
/// A corpus as the language-model setting uses it: its vocabulary, a block size, and a fixed split
/// into held-out real test documents and real training documents. The split is makemore's: a random
/// permutation of the documents (drawn from <see cref="RandomStreams.CorpusSplit"/> with master seed 0,
/// whatever --seed is, so it belongs to the corpus), its first min(1,000, ⌊10%⌋) documents (at least 1)
/// the test set, the rest the training set. For names.txt: 1,000 test names and 31,033 training names.
/// </summary>
public sealed class LmCorpus
{
    public const int MaxTestDocuments = 1000;

    /// <summary>Largest block size a corpus may ask for without --block-size (attention's memory is quadratic in it).</summary>
    public const int MaxBlockSize = 256;

    public CharCorpus Corpus { get; }
    public int BlockSize { get; }
    public int VocabularySize => Corpus.VocabularySize;

    /// <summary>Where the corpus came from: the embedded names, or the file given.</summary>
    public string Source { get; }

    /// <summary>SHA-256 of the documents (a resumed run must see the same corpus).</summary>
    public string Sha256 { get; }

    /// <summary>Token sequences (no start or end token) of the training documents, in split order.</summary>
    public IReadOnlyList<int[]> Train { get; }

    /// <summary>Token sequences of the held-out test documents.</summary>
    public IReadOnlyList<int[]> Test { get; }

    /// <summary>The test documents encoded once, shared by every replicate.</summary>
    public TokenSet TestSet { get; }

    // The sweep configurations' names for the corpus and the block size.
    const string CorpusParameter = nameof(LmSweepConfig.Corpus), BlockSizeParameter = nameof(LmSweepConfig.BlockSize);

    public LmCorpus(CharCorpus corpus, string source, int? blockSize = null)
    {
        if (corpus.Documents.Count < 2)
            throw new InvalidParameterException(ParameterProblem.BadValue, CorpusParameter, source, $"a corpus of at least 2 documents",
                $"{Param(CorpusParameter)} {source} holds {corpus.Documents.Count} document: need at least 2 (one to test on, one to train on)");
        Corpus = corpus;
        Source = source;
        BlockSize = blockSize ?? corpus.BlockSize;
        var order = HostSampling.Permutation(new RandomStream(0, 0, 0, RandomStreams.CorpusSplit), corpus.Documents.Count);
        var testCount = Math.Max(1, Math.Min(MaxTestDocuments, corpus.Documents.Count / 10));
        Test = [.. order.Take(testCount).Select(i => corpus.Encode(corpus.Documents[i]))];
        Train = [.. order.Skip(testCount).Select(i => corpus.Encode(corpus.Documents[i]))];
        TestSet = TokenSet.Encode(Test, BlockSize);
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', corpus.Documents))));
    }

    /// <summary>makemore's names.txt, shipped in this assembly (built once per block size per process: it is immutable).</summary>
    public static LmCorpus Names(int? blockSize = null)
    {
        CheckBlockSize([], blockSize, "names.txt");
        lock (NamesCache)
        {
            if (NamesCache.TryGetValue(blockSize ?? -1, out var cached)) return cached;
            var corpus = CharCorpus.Names();
            CheckBlockSize(corpus.Documents.Select((d, i) => (d, i + 1)), blockSize, "names.txt");
            return NamesCache[blockSize ?? -1] = new LmCorpus(corpus, "names.txt (embedded)", blockSize);
        }
    }

    static readonly Dictionary<int, LmCorpus> NamesCache = [];

    /// <summary>
    /// A one-document-per-line UTF-8 file (lines trimmed, empty lines skipped). An empty corpus, or a
    /// line longer than the block size allows (block size − 1 characters), is an <see cref="InvalidParameterException"/>
    /// naming the file and the line.
    /// </summary>
    public static LmCorpus Load(string path, int? blockSize = null)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or DecoderFallbackException)
        {
            throw new InvalidParameterException(ParameterProblem.Unavailable, CorpusParameter, path, $"a readable one-document-per-line UTF-8 file",
                $"{Param(CorpusParameter)} '{path}' cannot be read as UTF-8 text ({e.Message})", advice: $"give a one-document-per-line UTF-8 file");
        }
        var numbered = lines.Select((l, i) => (Text: l.Trim(), Line: i + 1)).Where(l => l.Text.Length > 0).ToList();
        if (numbered.Count == 0)
            throw new InvalidParameterException(ParameterProblem.BadValue, CorpusParameter, path, $"a file of one document per line",
                $"{Param(CorpusParameter)} '{path}' is empty (no non-blank line)", advice: $"give one document per line");
        CheckBlockSize(numbered, blockSize, $"'{path}'");
        return new LmCorpus(new CharCorpus(numbered.Select(l => l.Text)), path, blockSize);
    }

    static void CheckBlockSize(IEnumerable<(string Text, int Line)> documents, int? blockSize, string source)
    {
        if (blockSize is < 2 or > MaxBlockSize)
            throw BadValue(BlockSizeParameter, blockSize, $"give 2 to {MaxBlockSize} (the start token and up to block size − 1 characters)");
        var limit = (blockSize ?? MaxBlockSize) - 1;
        foreach (var (text, line) in documents)
            if (text.Length > limit)
                throw new InvalidParameterException(ParameterProblem.Conflict, CorpusParameter, source, $"documents of at most {limit} characters",
                    $"{Param(CorpusParameter)} {source} line {line} has {text.Length} characters, longer than the block size allows ({limit})",
                    other: BlockSizeParameter, subject: $"line {line}",
                    advice: blockSize is null ? (ParameterText)$"documents may have at most {limit} characters" : $"raise {Param(BlockSizeParameter)} to {text.Length + 1} or shorten the line");
    }
}
