using System.Security.Cryptography;
using System.Text;
using Collapse.Engine.Results;
using Collapse.Engine.Sweeps;

namespace Collapse.Engine.Families.Lm;

/// <summary>
/// A language model pretrained once per model size, the base a fine-tuning fit starts from, as the
/// paper fine-tunes one pretrained Gemma-2 checkpoint at every iteration. Its corpus is the words of
/// tinyshakespeare.txt (<see cref="CharCorpus.ShakespeareWords"/>: 208,503 lower-cased words, the
/// names' 26 letters, none longer than 15), a different task over the same alphabet: the base knows
/// English letter statistics, not names. Pretraining is <see cref="Steps"/> AdamW steps of the size's
/// own recipe (batch, learning rate) over the words in a random order redrawn every epoch, from
/// random initial weights; weights, order and steps are a pure function of the size, the steps and
/// <see cref="Seed"/>, drawn at replicate index 2³¹ − 1, which no sweep's seed reaches, so the base
/// shares no random numbers with the fits that start from it.
/// </summary>
/// <param name="Steps">AdamW steps of pretraining (default <see cref="EpochSteps"/>: one pass over the words).</param>
/// <param name="Seed">Master seed of the base's random streams (not a sweep's --seed: one base serves every seed).</param>
public sealed record LmBaseRecipe(LmModel Model, int Steps, uint Seed = 0)
{
    /// <summary>The replicate index of the base's streams.</summary>
    public const int Replicate = int.MaxValue;

    /// <summary>Steps of one pass over the words at the model's batch.</summary>
    public static int EpochSteps(LmModel model) => (LmBase.WordCount + model.Batch - 1) / model.Batch;

    /// <summary>One epoch over the words.</summary>
    public static LmBaseRecipe OneEpoch(LmModel model, uint seed = 0) => new(model, EpochSteps(model), seed);
}

/// <summary>What <see cref="LmBase.Load"/> returns: one model's parameters, and where they came from.</summary>
/// <param name="Key">What the parameters are a function of, spelled out (the cache file's name is its hash).</param>
/// <param name="TestLoss">The base's own test loss on the task corpus's held-out test documents (nats per character), as the paper reports Gemma's before fine-tuning.</param>
public sealed record LmBaseModel(float[] Parameters, string Key, bool FromCache, string CachePath, double TestLoss);

public static class LmBase
{
    /// <summary>Documents in the pretraining corpus.</summary>
    public const int WordCount = 208_503;

    static readonly Lazy<IReadOnlyList<string>> words = new(CharCorpus.ShakespeareWords);

    /// <summary>The pretraining words, encoded with the task corpus's vocabulary (which must hold their letters).</summary>
    public static IReadOnlyList<int[]> Words(LmCorpus task)
    {
        var missing = words.Value.SelectMany(w => w).Distinct().Where(c => !task.Corpus.Characters.Contains(c)).Order().ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"the task corpus's vocabulary lacks {string.Join(", ", missing.Select(c => $"'{c}'"))}, which the pretraining words use: a base needs the names' letters a-z");
        if (task.BlockSize < 16) throw new ArgumentException($"block size {task.BlockSize}: the pretraining words need 16 (15 letters and the start token)");
        return [.. words.Value.Select(task.Corpus.Encode)];
    }

    /// <summary>The directory bases are cached in: <see cref="CacheDirectory.Root"/>/lm-base.</summary>
    public static string DefaultCacheDirectory => Path.Combine(CacheDirectory.Root, "lm-base");

    /// <summary>
    /// What a base is a function of, spelled out: the recipe, the corpora's hashes and shapes, and the
    /// kernels (a base trained by other kernels differs in round-off, so it is another base).
    /// </summary>
    public static string KeyOf(LmBaseRecipe recipe, LmCorpus task, LmKernels kernels)
    {
        var m = recipe.Model;
        var wordsHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', words.Value))));
        return $"lm-base v1; words {wordsHash}; vocabulary '{task.Corpus.Characters}'; block {task.BlockSize}; " +
               $"layers {m.Layers}; width {m.Width}; heads {m.Heads}; batch {m.Batch}; learning rate {m.LearningRate:R}; " +
               $"steps {recipe.Steps}; seed {recipe.Seed}; kernels {kernels.Version} on {kernels.Accelerator.AcceleratorType}";
    }

    /// <summary>
    /// The base for <paramref name="recipe"/>: read from <paramref name="cacheDirectory"/> when a file
    /// there holds exactly this key and its checksum holds, else pretrained now and written there
    /// (a corrupt or mismatched file is reported through <paramref name="log"/> and replaced, never used).
    /// </summary>
    public static LmBaseModel Load(LmKernels kernels, LmCorpus task, LmBaseRecipe recipe, string? cacheDirectory = null, Action<string>? log = null)
    {
        if (recipe.Steps < 1) throw new ArgumentOutOfRangeException(nameof(recipe), recipe.Steps, "pretraining needs at least one step");
        var directory = cacheDirectory ?? DefaultCacheDirectory;
        var key = KeyOf(recipe, task, kernels);
        var path = Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32] + ".bin");
        // One load of a file at a time in this process: parallel callers of one base (the test program's classes, on a
        // fresh machine's empty cache) wait for the first to pretrain it and then read it, instead of each pretraining
        // it and racing to write it.
        lock (FileLocks.GetOrAdd(Path.GetFullPath(path), _ => new object()))
            return LoadLocked(kernels, task, recipe, path, key, directory, log);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> FileLocks = new();

    static LmBaseModel LoadLocked(LmKernels kernels, LmCorpus task, LmBaseRecipe recipe, string path, string key, string directory, Action<string>? log)
    {
        var config = recipe.Model.Config(task);
        var count = (int)new GptLayout(config).Count;
        float[]? parameters = null;
        if (File.Exists(path))
        {
            parameters = Read(path, key, count, out var problem);
            if (parameters is null) log?.Invoke($"lm base: {path} {problem}; pretraining it again");
        }
        var fromCache = parameters is not null;
        using var family = new LmFamily(kernels, task, config, recipe.Model.Training, 1, LmBaseRecipe.Replicate, recipe.Seed,
            fixedSteps: recipe.Steps, start: parameters);
        if (parameters is null)
        {
            log?.Invoke($"lm base: pretraining {recipe.Model.Name} for {recipe.Steps:N0} steps on {WordCount:N0} words (cached in {directory})");
            family.Fit(new NamesBatch([[.. Words(task)]]));
            parameters = family.Model.GetParameters();
            Write(path, key, parameters);
        }
        var testLoss = family.Model.Evaluate(task.TestSet)[0];
        log?.Invoke($"lm base {recipe.Model.Name}: {recipe.Steps:N0} steps on Shakespeare's words ({(fromCache ? "from the cache" : "pretrained now")}), " +
                    $"test loss on the real test names {testLoss:F4} nats/char before fine-tuning");
        return new LmBaseModel(parameters, key, fromCache, path, testLoss);
    }

    const string Magic = "collapse-lm-base";

    // Layout: magic, key, parameter count, the float32 parameters, SHA-256 of everything before it.
    static void Write(string path, string key, float[] parameters)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(key);
            writer.Write(parameters.Length);
            foreach (var p in parameters) writer.Write(p);
        }
        var bytes = body.ToArray();
        // Unique per write: another process may be writing the same base (the same bytes) at the same time; the rename is atomic.
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        using (var file = File.Create(temporary))
        {
            file.Write(bytes);
            file.Write(SHA256.HashData(bytes));
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The parameters a cache file holds, or null and why not.</summary>
    static float[]? Read(string path, string key, int count, out string problem)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            problem = $"cannot be read ({e.Message})";
            return null;
        }
        if (bytes.Length < 32 || !SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
        {
            problem = "is corrupt (its checksum does not hold)";
            return null;
        }
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 32), Encoding.UTF8);
            if (reader.ReadString() != Magic)
            {
                problem = "is not a language-model base";
                return null;
            }
            if (reader.ReadString() != key)
            {
                problem = "holds another base (its key differs)";
                return null;
            }
            var stored = reader.ReadInt32();
            if (stored != count)
            {
                problem = $"holds {stored} parameters where this model has {count}";
                return null;
            }
            var parameters = new float[count];
            for (var i = 0; i < count; i++) parameters[i] = reader.ReadSingle();
            problem = "";
            return parameters;
        }
        catch (EndOfStreamException)
        {
            problem = "is truncated";
            return null;
        }
    }
}
