using Collapse.Engine.Families.Lm;

// Usage: SplitExport OUT_DIR [CORPUS_FILE]
// Writes OUT_DIR/train.txt and OUT_DIR/test.txt: the documents of LmCorpus's split, one per line, in
// split order; without CORPUS_FILE the embedded names.txt (what `collapse run lm` uses by default),
// with it the split `collapse run lm --corpus CORPUS_FILE` uses.
if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: SplitExport OUT_DIR [CORPUS_FILE]");
    return 2;
}
var corpus = args.Length == 2 ? LmCorpus.Load(args[1]) : LmCorpus.Names();
Directory.CreateDirectory(args[0]);
foreach (var (name, documents) in new[] { ("train.txt", corpus.Train), ("test.txt", corpus.Test) })
    File.WriteAllLines(Path.Combine(args[0], name), documents.Select(d => corpus.Corpus.Decode(d)));
Console.WriteLine($"{corpus.Source}: {corpus.Train.Count} train, {corpus.Test.Count} test, block size {corpus.BlockSize}, sha256 {corpus.Sha256}");
return 0;
