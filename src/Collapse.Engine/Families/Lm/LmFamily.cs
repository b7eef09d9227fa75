using Collapse.Kernels.Lm;
using Collapse.Kernels.Random;

namespace Collapse.Engine.Families.Lm;

/// <summary>
/// The character-level language model (docs/DESIGN.md, section C) for one batch of replicates of one
/// (preset, setting) cell: R independent GPTs trained together by <see cref="GptModel"/>.
/// <list type="bullet">
/// <item>Real data: each seed's n real training documents, a fixed random subset of the corpus's
/// training split (all of it when n is the split's size — the default).</item>
/// <item>Fit: a fresh model from the seed's initial weights (drawn once, kept, reloaded for every fit
/// with a reset optimizer, as the paper fine-tunes the same base model each time), trained for one
/// epoch over the fit's m documents: ⌈m / batch⌉ AdamW steps, each document once, in an order drawn
/// from the seed's <see cref="RandomStreams.TrainingOrder"/> stream (the last step takes the remainder);
/// or, with <c>fixedSteps</c>, that many full batches, the order redrawn every epoch. The order depends
/// on the seed and m only, so a fit is a pure function of the seed and its data: fitting the same
/// documents twice gives the same model (each iteration's data are new draws, so its batches are too).</item>
/// <item>FitAccumulated: the same over every document passed to it so far (t·n at iteration t).</item>
/// <item>Sample: documents generated at temperature 1 from the start token, each ending at its end
/// token (or the block's end).</item>
/// <item>Metrics: <c>test_loss</c>, nats per predicted character (the end token included, as makemore
/// computes it) on the corpus's held-out real test documents; <c>train_loss</c>, the same on up to
/// <see cref="TrainLossDocuments"/> evenly spaced documents of the fit's own data (all when fewer);
/// <c>unique_fraction</c> and <c>mean_length</c> of the n documents the fitted model samples —
/// the next iteration's synthetic data (distinct token sequences / n, and characters per document,
/// end token not counted). After the k-th fit (the runner fits once per iteration, so k = t) that
/// sample is drawn with iteration k + 1's stream while evaluating and handed to the next
/// <see cref="Sample"/> call asking for it (sampling is a pure function of the model and (seed,
/// iteration), so this changes nothing); the last iteration's sample is drawn only for its metrics.</item>
/// </list>
/// </summary>
public sealed class LmFamily : IModelFamily
{
    public static readonly IReadOnlyList<string> Metrics = ["test_loss", "train_loss", "unique_fraction", "mean_length"];

    /// <summary>Documents of a fit's data its train_loss is measured on (at most).</summary>
    public const int TrainLossDocuments = 1000;

    readonly GptModel model;
    readonly LmCorpus corpus;
    readonly uint seed;
    readonly int firstReplicate, syntheticCount;
    readonly int? fixedSteps;
    readonly float[] initial;
    readonly Dictionary<int, NamesBatch> real = [];
    List<int[]>[]? accumulated;
    IReadOnlyList<int[]>[]? fitted;
    (int Count, int Iteration, NamesBatch Batch)? pending;
    int fits;

    /// <param name="syntheticCount">Documents per replicate each fitted model samples (n: the real training data's size).</param>
    /// <param name="fixedSteps">Steps per fit instead of one epoch (null: one epoch).</param>
    /// <param name="maxBatch">Sequences per replicate one forward may hold (evaluation and sampling chunks); at least the training batch.</param>
    public LmFamily(LmKernels kernels, LmCorpus corpus, GptConfig config, GptTraining training, int replicates, int firstReplicate,
        uint seed, int syntheticCount, int? fixedSteps = null, int maxBatch = 256)
    {
        if (config.BlockSize != corpus.BlockSize) throw new ArgumentException($"model block size {config.BlockSize} ≠ corpus block size {corpus.BlockSize}");
        if (config.Vocab != corpus.VocabularySize) throw new ArgumentException($"model vocabulary {config.Vocab} ≠ corpus vocabulary {corpus.VocabularySize}");
        if (syntheticCount < 1) throw new ArgumentOutOfRangeException(nameof(syntheticCount), syntheticCount, "at least one document");
        if (fixedSteps is < 1) throw new ArgumentOutOfRangeException(nameof(fixedSteps), fixedSteps, "at least one step");
        (this.corpus, this.seed, this.firstReplicate, this.syntheticCount, this.fixedSteps) = (corpus, seed, firstReplicate, syntheticCount, fixedSteps);
        model = new GptModel(kernels, config, training, replicates, Math.Max(maxBatch, training.Batch));
        // Iteration 0: the initial weights belong to the seed, not to any iteration or setting.
        model.Initialize(new RandomStream(seed, 0, 0, RandomStreams.ModelInitNormals), new RandomStream(seed, 0, 0, RandomStreams.ModelInitUniforms), firstReplicate);
        initial = model.GetParameters();
    }

    public int Replicates => model.Replicates;
    public IReadOnlyList<string> MetricNames => Metrics;
    public GptModel Model => model;

    /// <summary>
    /// Whether <see cref="Evaluate"/> samples the next generation for unique_fraction and mean_length
    /// (false: those two metrics are NaN and nothing is sampled — the mix study fits models it never samples).
    /// </summary>
    public bool SampleOnEvaluate { get; init; } = true;

    /// <summary>Documents per replicate the last fit trained on (t·n under Accumulate).</summary>
    public int LastFitDocuments { get; private set; }

    /// <summary>AdamW steps the last fit took.</summary>
    public int LastFitSteps { get; private set; }

    /// <summary>The documents the current models sampled for their metrics (the next iteration's synthetic data), or null before an evaluation.</summary>
    public NamesBatch? LastSample => pending?.Batch;

    /// <summary>The documents replicate r's current model was fitted to, in the order given.</summary>
    public IReadOnlyList<int[]> FittedDocuments(int replicate) => fitted?[replicate] ?? [];

    /// <summary>The initial weights of every replicate, [R][P] (each fit starts from them).</summary>
    public float[] InitialParameters() => (float[])initial.Clone();

    /// <summary>
    /// The first <paramref name="count"/> documents of each seed's fixed random subset of the training
    /// split, drawn from (seed, seed index, iteration 1, <see cref="RandomStreams.RealData"/>).
    /// </summary>
    public IDataBatch DrawReal(int count)
    {
        if (count < 1 || count > corpus.Train.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"1 … {corpus.Train.Count} real training documents");
        if (real.TryGetValue(count, out var cached)) return cached;
        var names = new int[Replicates][][];
        Parallel.For(0, Replicates, r =>
        {
            var stream = new RandomStream(seed, (uint)(firstReplicate + r), 1, RandomStreams.RealData);
            names[r] = [.. HostSampling.WithoutReplacement(stream, corpus.Train.Count, count).Select(i => corpus.Train[i])];
        });
        return real[count] = new NamesBatch(names);
    }

    public IDataBatch Sample(int count, int iteration)
    {
        if (fits == 0) throw new InvalidOperationException("sample after a fit");
        if (pending is { } p && p.Count == count && p.Iteration == iteration) return p.Batch;
        var rows = model.Sample(count, 1.0f, new RandomStream(seed, 0, (uint)iteration, RandomStreams.Synthetic), firstReplicate);
        var T = model.Config.BlockSize;
        var names = new int[Replicates][][];
        for (var r = 0; r < Replicates; r++)
        {
            names[r] = new int[count][];
            for (var i = 0; i < count; i++) names[r][i] = TokenSet.Sequence(rows.AsSpan((int)(((long)r * count + i) * T), T));
        }
        return new NamesBatch(names);
    }

    public void Fit(IDataBatch data)
    {
        var names = Names(data);
        accumulated = null;
        Train(names.Names);
    }

    public void FitAccumulated(IDataBatch newest)
    {
        var names = Names(newest);
        accumulated ??= [.. Enumerable.Range(0, Replicates).Select(_ => new List<int[]>())];
        for (var r = 0; r < Replicates; r++) accumulated[r].AddRange(names.Names[r]);
        Train(accumulated);
    }

    NamesBatch Names(IDataBatch data)
    {
        if (data is not NamesBatch names) throw new ArgumentException($"not a batch of names: {data.GetType().Name}", nameof(data));
        if (names.Replicates != Replicates) throw new ArgumentException($"batch of {names.Replicates} replicates for a family of {Replicates}", nameof(data));
        return names;
    }

    public IDataPool CreatePool(long capacity) => new NamesPool(Replicates, capacity, seed, firstReplicate);

    /// <summary>Steps a fit of <paramref name="documents"/> documents takes.</summary>
    public int StepsFor(int documents) => fixedSteps ?? (documents + model.Training.Batch - 1) / model.Training.Batch;

    /// <summary>A fresh model from the initial weights, trained on every replicate's own documents.</summary>
    void Train(IReadOnlyList<int[]>[] sets)
    {
        fits++;
        pending = null;
        var m = sets[0].Count;
        if (m < 1 || sets.Any(s => s.Count != m)) throw new ArgumentException("every replicate must fit the same, nonzero number of documents");
        model.SetParameters(initial);
        var data = TokenSet.Encode(sets, model.Config.BlockSize);
        var (B, T, R) = (model.Training.Batch, model.Config.BlockSize, Replicates);
        var steps = StepsFor(m);
        var orders = new int[R][];
        var epoch = -1;
        var inputs = new int[R * B * T];
        var targets = new int[inputs.Length];
        for (var step = 0; step < steps; step++)
        {
            var first = (long)step * B;
            // One epoch: the last step takes what remains; fixed steps: always full batches, across epochs.
            var size = fixedSteps is null ? (int)Math.Min(B, m - first) : B;
            var (rowsIn, rowsOut) = size == B ? (inputs, targets) : (new int[R * size * T], new int[R * size * T]);
            for (var i = 0; i < size; i++)
            {
                var global = first + i;
                var e = (int)(global / m);
                if (e != epoch)
                {
                    epoch = e;
                    Parallel.For(0, R, r => orders[r] = HostSampling.Permutation(
                        new RandomStream(seed, (uint)(firstReplicate + r), 0, RandomStreams.TrainingOrder), m, (ulong)e * (ulong)m));
                }
                var k = (int)(global - (long)e * m);
                for (var r = 0; r < R; r++)
                {
                    var row = data.RowOf(r, orders[r][k]);
                    Array.Copy(data.Inputs, row, rowsIn, (long)(r * size + i) * T, T);
                    Array.Copy(data.Targets, row, rowsOut, (long)(r * size + i) * T, T);
                }
            }
            model.ComputeGradients(rowsIn, rowsOut, size);
            model.Update();
        }
        (fitted, LastFitDocuments, LastFitSteps) = (sets, m, steps);
    }

    public void Evaluate(double[,] metrics)
    {
        if (fitted is null) throw new InvalidOperationException("evaluate after a fit");
        var test = model.Evaluate(corpus.TestSet);
        var m = fitted[0].Count;
        var count = Math.Min(TrainLossDocuments, m);
        var spaced = fitted.Select(set => (IReadOnlyList<int[]>)[.. Enumerable.Range(0, count).Select(i => set[(int)((long)i * m / count)])]).ToArray();
        var train = model.Evaluate(TokenSet.Encode(spaced, model.Config.BlockSize));
        if (!SampleOnEvaluate)
        {
            for (var r = 0; r < Replicates; r++) (metrics[r, 0], metrics[r, 1], metrics[r, 2], metrics[r, 3]) = (test[r], train[r], double.NaN, double.NaN);
            return;
        }
        var sample = (NamesBatch)Sample(syntheticCount, fits + 1);
        pending = (syntheticCount, fits + 1, sample);
        for (var r = 0; r < Replicates; r++)
        {
            var names = sample.Names[r];
            metrics[r, 0] = test[r];
            metrics[r, 1] = train[r];
            metrics[r, 2] = (double)names.Select(Key).Distinct().Count() / names.Length;
            metrics[r, 3] = names.Average(n => (double)n.Length);
        }
    }

    static string Key(int[] tokens) => new([.. tokens.Select(t => (char)t)]);

    public void Dispose() => model.Dispose();
}
