namespace Collapse.Engine.Data;

/// <summary>
/// A one-document-per-line text corpus and its character vocabulary, as makemore builds them:
/// lines trimmed, empty lines dropped, characters sorted by code point and numbered from 1 (token 0
/// is the start and end of every document). <see cref="Names"/> is the 32,033 names of makemore's
/// names.txt (MIT licence, <see cref="NamesLicense"/>), shipped inside this assembly.
/// </summary>
public sealed class CharCorpus
{
    public IReadOnlyList<string> Documents { get; }

    /// <summary>The vocabulary's characters; character k has token k + 1.</summary>
    public string Characters { get; }

    /// <summary>Characters plus the end token.</summary>
    public int VocabularySize => Characters.Length + 1;

    /// <summary>Longest document + 1 (the start token): makemore's block size.</summary>
    public int BlockSize { get; }

    readonly Dictionary<char, int> tokens;

    public CharCorpus(IEnumerable<string> lines)
    {
        Documents = lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (Documents.Count == 0) throw new ArgumentException("the corpus holds no documents (every line is empty)");
        Characters = new string(Documents.SelectMany(d => d).Distinct().Order().ToArray());
        tokens = Characters.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i + 1);
        BlockSize = Documents.Max(d => d.Length) + 1;
    }

    public int[] Encode(string document) => document.Select(c => tokens.TryGetValue(c, out var t)
        ? t : throw new ArgumentException($"character '{c}' is not in the vocabulary")).ToArray();

    /// <summary>Characters of tokens 1 … V−1; the end token (0) ends the document.</summary>
    public string Decode(IEnumerable<int> sequence) => new(sequence.TakeWhile(t => t != 0).Select(t => Characters[t - 1]).ToArray());

    /// <summary>makemore's names.txt, from this assembly's resources.</summary>
    public static CharCorpus Names() => new(ReadResource("Collapse.Engine.Data.names.txt").Split('\n'));

    public static string NamesLicense => ReadResource("Collapse.Engine.Data.names.LICENSE");

    /// <summary>
    /// The words of tinyshakespeare.txt (from this assembly's resources), in text order with their
    /// repeats: every maximal run of the letters a–z after lower-casing (so "o'er" is "o" and "er"),
    /// one document each: 208,503 words, 11,455 distinct, at most 15 letters, the names' 26 letters.
    /// The corpus a language-model base is pretrained on (<c>LmBase</c>).
    /// </summary>
    public static IReadOnlyList<string> ShakespeareWords()
    {
        var text = ReadResource("Collapse.Engine.Data.tinyshakespeare.txt").ToLowerInvariant();
        var words = new List<string>(210_000);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && text[i] is >= 'a' and <= 'z';
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                words.Add(text[start..i]);
                start = -1;
            }
        }
        return words;
    }

    public static string ShakespeareLicense => ReadResource("Collapse.Engine.Data.tinyshakespeare.LICENSE");

    static string ReadResource(string name)
    {
        using var stream = typeof(CharCorpus).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
