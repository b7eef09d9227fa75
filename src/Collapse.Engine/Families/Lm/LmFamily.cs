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
/// <item>Accumulation: the same over every document added to it so far (t·n at iteration t).</item>
/// <item>Sample: documents generated at temperature 1 from the start token, each ending at its end
/// token (or the block's end).</item>
/// <item>Metrics: <c>test_loss</c>, nats per predicted character (the end token included, as makemore
/// computes it) on the corpus's held-out real test documents; <c>train_loss</c>, the same on up to
/// <see cref="TrainLossDocuments"/> evenly spaced documents of the fit's own data (all when fewer);
/// <c>unique_fraction</c> and <c>mean_length</c> of the n documents the fitted model samples —
/// the next iteration's synthetic data (distinct token sequences / n, and characters per document,
/// end token not counted). The scenario runner draws that sample (iteration t + 1's stream) right
/// after the fit and hands it to <see cref="Evaluate"/>; the family declares
/// <see cref="FamilyCapabilities.ScoresOwnSample"/>, so the last iteration's sample is drawn too, for
/// its metrics only. Without a sample (the mix study fits models it never samples) those two are NaN.</item>
/// </list>
/// </summary>
public sealed class LmFamily : IModelFamily<NamesBatch>
{
    public static readonly Metric TestLoss = new("test_loss", 0), TrainLoss = new("train_loss", 1),
        UniqueFraction = new("unique_fraction", 2), MeanLength = new("mean_length", 3);
    public static readonly MetricSet All = new(TestLoss, TrainLoss, UniqueFraction, MeanLength);

    /// <summary>Documents of a fit's data its train_loss is measured on (at most).</summary>
    public const int TrainLossDocuments = 1000;

    readonly GptModel model;
    readonly LmCorpus corpus;
    readonly uint seed;
    readonly int firstReplicate;
    readonly int? fixedSteps;
    readonly float[] initial;
    IReadOnlyList<int[]>[]? fitted;

    /// <param name="fixedSteps">Steps per fit instead of one epoch (null: one epoch).</param>
    /// <param name="maxBatch">Sequences per replicate one forward may hold (evaluation and sampling chunks); at least the training batch.</param>
    /// <param name="start">
    /// One model's weights every fit of every replicate starts from (a pretrained base: fine-tuning,
    /// see <see cref="LmBase"/>); null: each seed's own random initial weights (training from scratch).
    /// </param>
    public LmFamily(LmKernels kernels, LmCorpus corpus, GptConfig config, GptTraining training, int replicates, int firstReplicate,
        uint seed, int? fixedSteps = null, int maxBatch = 256, float[]? start = null)
    {
        if (config.BlockSize != corpus.BlockSize) throw new ArgumentException($"model block size {config.BlockSize} ≠ corpus block size {corpus.BlockSize}");
        if (config.Vocab != corpus.VocabularySize) throw new ArgumentException($"model vocabulary {config.Vocab} ≠ corpus vocabulary {corpus.VocabularySize}");
        if (fixedSteps is < 1) throw new ArgumentOutOfRangeException(nameof(fixedSteps), fixedSteps, "at least one step");
        (this.corpus, this.seed, this.firstReplicate, this.fixedSteps) = (corpus, seed, firstReplicate, fixedSteps);
        model = new GptModel(kernels, config, training, replicates, Math.Max(maxBatch, training.Batch));
        if (start is null)
        {
            // Iteration 0: the initial weights belong to the seed, not to any iteration or setting.
            model.Initialize(new RandomStream(seed, 0, 0, RandomStreams.ModelInitNormals), new RandomStream(seed, 0, 0, RandomStreams.ModelInitUniforms), firstReplicate);
            initial = model.GetParameters();
        }
        else
        {
            var count = model.Layout.Count;
            if (start.Length != count) throw new ArgumentException($"a start of {start.Length} weights for a model of {count}", nameof(start));
            initial = new float[replicates * count];
            for (var r = 0; r < replicates; r++) start.CopyTo(initial, r * count);
            model.SetParameters(initial);
        }
    }

    public int Replicates => model.Replicates;
    public MetricSet Metrics => All;
    public FamilyCapabilities Capabilities { get; } = new() { Pools = true, ScoresOwnSample = true };
    public GptModel Model => model;

    /// <summary>Documents per replicate the last fit trained on (t·n under Accumulate).</summary>
    public int LastFitDocuments { get; private set; }

    /// <summary>AdamW steps the last fit took.</summary>
    public int LastFitSteps { get; private set; }

    /// <summary>The documents replicate r's current model was fitted to, in the order given.</summary>
    public IReadOnlyList<int[]> FittedDocuments(int replicate) => fitted?[replicate] ?? [];

    /// <summary>The initial weights of every replicate, [R][P] (each fit starts from them).</summary>
    public float[] InitialParameters() => (float[])initial.Clone();

    /// <summary>
    /// The first <paramref name="count"/> documents of each seed's fixed random subset of the training
    /// split, drawn from (seed, seed index, iteration 1, <see cref="RandomStreams.RealData"/>).
    /// </summary>
    public NamesBatch DrawReal(int count)
    {
        if (count < 1 || count > corpus.Train.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"1 … {corpus.Train.Count} real training documents");
        var names = new int[Replicates][][];
        Parallel.For(0, Replicates, r =>
        {
            var stream = new RandomStream(seed, (uint)(firstReplicate + r), 1, RandomStreams.RealData);
            names[r] = [.. HostSampling.WithoutReplacement(stream, corpus.Train.Count, count).Select(i => corpus.Train[i])];
        });
        return new NamesBatch(names);
    }

    public NamesBatch Sample(int count, int iteration)
    {
        if (fitted is null) throw new InvalidOperationException("sample after a fit");
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

    public void Fit(NamesBatch data) => Train(Checked(data).Names);

    /// <summary>Accumulate: every document added so far, per replicate; each addition retrains on all of them.</summary>
    public IAccumulation<NamesBatch> BeginAccumulation(long capacity) => new Accumulation(this);

    sealed class Accumulation(LmFamily family) : IAccumulation<NamesBatch>
    {
        readonly List<int[]>[] documents = [.. Enumerable.Range(0, family.Replicates).Select(_ => new List<int[]>())];

        public long Count => documents[0].Count;

        public void AddAndFit(NamesBatch newest)
        {
            var names = family.Checked(newest);
            for (var r = 0; r < documents.Length; r++) documents[r].AddRange(names.Names[r]);
            family.Train(documents);
        }

        public void Dispose()
        {
        }
    }

    NamesBatch Checked(NamesBatch names) => names.Replicates == Replicates ? names
        : throw new ArgumentException($"batch of {names.Replicates} replicates for a family of {Replicates}", nameof(names));

    public IDataPool<NamesBatch> CreatePool(long capacity) => new NamesPool(Replicates, capacity, seed, firstReplicate);

    /// <summary>Steps a fit of <paramref name="documents"/> documents takes.</summary>
    public int StepsFor(int documents) => fixedSteps ?? (documents + model.Training.Batch - 1) / model.Training.Batch;

    /// <summary>A fresh model from the initial weights, trained on every replicate's own documents.</summary>
    void Train(IReadOnlyList<int[]>[] sets)
    {
        var m = sets[0].Count;
        if (m < 1 || sets.Any(s => s.Count != m)) throw new ArgumentException("every replicate must fit the same, nonzero number of documents");
        model.SetParameters(initial);
        var data = TokenSet.Encode(sets, model.Config.BlockSize);
        var (B, T, R) = (model.Training.Batch, model.Config.BlockSize, Replicates);
        var steps = StepsFor(m);
        // Every replicate's own order of its documents in epoch e (one permutation per epoch).
        int[][] Orders(int e)
        {
            var orders = new int[R][];
            Parallel.For(0, R, r => orders[r] = HostSampling.Permutation(
                new RandomStream(seed, (uint)(firstReplicate + r), 0, RandomStreams.TrainingOrder), m, (ulong)e * (ulong)m));
            return orders;
        }
        // The data stay on the device and each step gathers its rows there, from the orders of the (at most two)
        // epochs it touches; only a fixed-step fit of fewer documents than a batch (a step spanning more epochs)
        // gathers them on the host.
        var onDevice = fixedSteps is null || B <= m;
        if (onDevice) model.LoadTrainingSet(data);
        var loadedEpoch = -1;
        int[][]? hostOrders = null;
        var hostEpoch = -1;
        int[] inputs = [], targets = [];
        for (var step = 0; step < steps; step++)
        {
            var first = (long)step * B;
            // One epoch: the last step takes what remains; fixed steps: always full batches, across epochs.
            var size = fixedSteps is null ? (int)Math.Min(B, m - first) : B;
            if (onDevice)
            {
                var epoch = (int)(first / m);
                if (epoch != loadedEpoch)
                {
                    model.LoadOrders((long)epoch * m, Orders(epoch), fixedSteps is null ? null : Orders(epoch + 1));
                    loadedEpoch = epoch;
                }
                model.ComputeGradients(first, size);
            }
            else
            {
                if (inputs.Length != R * size * T) (inputs, targets) = (new int[R * size * T], new int[R * size * T]);
                for (var i = 0; i < size; i++)
                {
                    var global = first + i;
                    var e = (int)(global / m);
                    if (e != hostEpoch) (hostOrders, hostEpoch) = (Orders(e), e);
                    var k = (int)(global - (long)e * m);
                    for (var r = 0; r < R; r++)
                    {
                        var row = data.RowOf(r, hostOrders![r][k]);
                        Array.Copy(data.Inputs, row, inputs, (long)(r * size + i) * T, T);
                        Array.Copy(data.Targets, row, targets, (long)(r * size + i) * T, T);
                    }
                }
                model.ComputeGradients(inputs, targets, size);
            }
            model.Update();
        }
        // A snapshot: an accumulation's lists keep growing after this fit.
        (fitted, LastFitDocuments, LastFitSteps) = ([.. sets.Select(s => (IReadOnlyList<int[]>)[.. s])], m, steps);
    }

    public void Evaluate(MetricTable metrics, NamesBatch? nextGeneration)
    {
        if (fitted is null) throw new InvalidOperationException("evaluate after a fit");
        var test = model.Evaluate(corpus.TestSet);
        var m = fitted[0].Count;
        var count = Math.Min(TrainLossDocuments, m);
        var spaced = fitted.Select(set => (IReadOnlyList<int[]>)[.. Enumerable.Range(0, count).Select(i => set[(int)((long)i * m / count)])]).ToArray();
        var train = model.Evaluate(TokenSet.Encode(spaced, model.Config.BlockSize));
        for (var r = 0; r < Replicates; r++)
        {
            metrics[r, TestLoss] = test[r];
            metrics[r, TrainLoss] = train[r];
            var names = nextGeneration?.Names[r];
            metrics[r, UniqueFraction] = names is null ? double.NaN : (double)names.Select(Key).Distinct().Count() / names.Length;
            metrics[r, MeanLength] = names is null ? double.NaN : names.Average(n => (double)n.Length);
        }
    }

    static string Key(int[] tokens) => new([.. tokens.Select(t => (char)t)]);

    public void Dispose() => model.Dispose();
}
