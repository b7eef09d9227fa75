using Collapse.Engine.Families.Lm;

namespace Collapse.Tests.Lm;

/// <summary>The pretrained base a fine-tuning fit starts from: its corpus, determinism, cache and effect.</summary>
public sealed class LmBaseTests : IDisposable
{
    readonly string cache = Path.Combine(Path.GetTempPath(), $"lm-base-tests-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
    }

    static LmKernels Kernels => LmTestKit.Kernels("cpu", KernelPath.Auto);

    static LmBaseRecipe Tiny(int steps) => new(LmModel.From(GptPreset.Tiny), steps, Seed: 3);

    [Fact]
    public void The_words_are_tinyshakespeare_s_lower_cased_letter_runs()
    {
        var words = CharCorpus.ShakespeareWords();
        Assert.Equal(LmBase.WordCount, words.Count);
        Assert.Equal(11_455, words.Distinct().Count());
        Assert.Equal(15, words.Max(w => w.Length));
        Assert.Equal("abcdefghijklmnopqrstuvwxyz", new string([.. words.SelectMany(w => w).Distinct().Order()]));
        // The play's first words, and "o'er" split at the apostrophe.
        Assert.Equal(["first", "citizen", "before", "we", "proceed"], words.Take(5));
        Assert.Contains("er", words);
        // Encoded with the names' vocabulary: the same tokens for the same letters.
        var names = LmCorpus.Names();
        var encoded = LmBase.Words(names);
        Assert.Equal(names.Corpus.Encode("first"), encoded[0]);
    }

    [Fact]
    public void Parallel_callers_of_one_base_on_an_empty_cache_pretrain_it_once_and_all_get_its_weights()
    {
        // The test program's classes load the same bases at once on a fresh machine: one pretrains, the rest read its file.
        var names = LmCorpus.Names();
        var loaded = new LmBaseModel[4];
        Parallel.For(0, loaded.Length, new ParallelOptions { MaxDegreeOfParallelism = loaded.Length },
            i => loaded[i] = LmBase.Load(LmTestKit.Kernels("cpu", KernelPath.Auto), names, Tiny(8), cache));
        Assert.Equal(1, loaded.Count(m => !m.FromCache));
        Assert.All(loaded, m => Assert.Equal(loaded[0].Parameters, m.Parameters));
        Assert.Equal([Path.GetFileName(loaded[0].CachePath)], Directory.GetFiles(cache).Select(Path.GetFileName));
    }

    [Fact]
    public void A_base_is_pretrained_once_then_read_back_and_a_corrupt_or_mismatched_file_is_rebuilt()
    {
        var names = LmCorpus.Names();
        var log = new List<string>();
        var first = LmBase.Load(Kernels, names, Tiny(12), cache, log.Add);
        Assert.False(first.FromCache);
        Assert.True(File.Exists(first.CachePath));

        var again = LmBase.Load(Kernels, names, Tiny(12), cache, log.Add);
        Assert.True(again.FromCache);
        Assert.Equal(first.Parameters, again.Parameters);
        Assert.Equal(first.TestLoss, again.TestLoss);

        // One flipped byte in the weights: detected by the checksum, pretrained again, the same weights.
        var bytes = File.ReadAllBytes(first.CachePath);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(first.CachePath, bytes);
        log.Clear();
        var rebuilt = LmBase.Load(Kernels, names, Tiny(12), cache, log.Add);
        Assert.False(rebuilt.FromCache);
        Assert.Contains(log, line => line.Contains("corrupt"));
        Assert.Equal(first.Parameters, rebuilt.Parameters);

        // Another base's file under this one's name (a valid file with the wrong key): not used.
        var other = LmBase.Load(Kernels, names, Tiny(13), cache);
        Assert.NotEqual(first.Parameters, other.Parameters);
        File.Copy(other.CachePath, first.CachePath, overwrite: true);
        log.Clear();
        var mismatched = LmBase.Load(Kernels, names, Tiny(12), cache, log.Add);
        Assert.False(mismatched.FromCache);
        Assert.Contains(log, line => line.Contains("another base"));
        Assert.Equal(first.Parameters, mismatched.Parameters);

        // A truncated file.
        File.WriteAllBytes(first.CachePath, File.ReadAllBytes(first.CachePath)[..100]);
        Assert.False(LmBase.Load(Kernels, names, Tiny(12), cache).FromCache);
    }

    /// <summary>
    /// Early in pretraining the base learns the letter statistics names share with words; over a whole
    /// epoch a model of words also learns to end where words end (4 letters on average, names 6), and
    /// its names loss climbs back (3.41 for tiny, 3.54 for makemore: results/lm/finetune-recipe.md).
    /// </summary>
    [Fact]
    public void Pretraining_on_words_first_learns_the_letter_statistics_names_share()
    {
        var names = LmCorpus.Names();
        var recipe = Tiny(300);
        var trained = LmBase.Load(Kernels, names, recipe, cache);
        using var untrained = new LmFamily(Kernels, names, recipe.Model.Config(names), recipe.Model.Training, 1, LmBaseRecipe.Replicate, recipe.Seed);
        var before = untrained.Model.Evaluate(names.TestSet)[0];
        // From ln 27 ≈ 3.30 nats (uniform over the vocabulary) to well below: English letter statistics carry over to names.
        Assert.InRange(before, 3.0, 3.6);
        Assert.True(trained.TestLoss < before - 0.4, $"names test loss {trained.TestLoss} after pretraining vs {before} before");
    }

    [Fact]
    public void Every_fit_of_a_fine_tuning_family_starts_from_the_base()
    {
        var names = LmCorpus.Names();
        var recipe = Tiny(5);
        var base0 = LmBase.Load(Kernels, names, recipe, cache);
        using var family = new LmFamily(Kernels, names, recipe.Model.Config(names), recipe.Model.Training, 3, 0, 7, start: base0.Parameters);
        var initial = family.InitialParameters();
        var count = base0.Parameters.Length;
        for (var r = 0; r < 3; r++) Assert.Equal(base0.Parameters, initial.AsSpan(r * count, count).ToArray());
        using (var real = family.DrawReal(40)) family.Fit(real);
        Assert.NotEqual(base0.Parameters, family.Model.GetParameters().AsSpan(0, count).ToArray());
        Assert.Equal(initial, family.InitialParameters());
        Assert.Throws<ArgumentException>(() => new LmFamily(Kernels, names, recipe.Model.Config(names), recipe.Model.Training, 1, 0, 7, start: new float[10]));
    }
}
