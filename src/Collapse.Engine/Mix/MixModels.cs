namespace Collapse.Engine.Mix;

/// <summary>One grid fit's scores for one replicate: the test metric, the family's extra columns (formatted), and the first value the model does not define.</summary>
public readonly record struct MixScore(double Metric, string[] Extra, (string Column, double Value)? NonFinite);

/// <summary>One batch of seeds of the mix study, whatever its family: its generator's data made once, then any number of grid fits.</summary>
public interface IMixBatch : IDisposable
{
    int Replicates { get; }

    /// <summary>
    /// The generator's data: <paramref name="generatorReal"/> real records per seed in a random order
    /// (stream <see cref="RandomStreams.MixRealOrder"/>, so a prefix is a random subset), and, when
    /// <paramref name="poolSize"/> &gt; 0, the generator's pool of that many samples (iteration 2's
    /// synthetic stream).
    /// </summary>
    void Generate(uint seed, int firstReplicate, int generatorReal, int poolSize);

    /// <summary>
    /// Fits every replicate's fresh model to its first <paramref name="numReal"/> real records plus
    /// the first <paramref name="numSynthetic"/> of its synthetic pool, and scores it.
    /// </summary>
    MixScore[] FitAndScore(int numReal, int numSynthetic);
}

/// <summary>
/// One batch of seeds of the value-of-synthetic-data study (docs/DESIGN.md, section D) for one model
/// family: the family's models, plus the three things the study needs beyond them — joining real
/// and synthetic records into one fit's data, how the generator's samples become the synthetic
/// pool, and the study's test metric with the family's own columns.
/// </summary>
public abstract class MixModels<TBatch>(IModelFamily<TBatch> family) : IMixBatch where TBatch : class, IDataBatch
{
    TBatch? real, synthetic;

    /// <summary>The models: the generator first (fitted to the real set), then each grid point's fresh fit.</summary>
    public IModelFamily<TBatch> Family { get; } = family;

    public int Replicates => Family.Replicates;

    /// <summary>Whether the generator is fitted to the real set; false: the family's initial model (the truth) generates.</summary>
    public virtual bool FitsGenerator => true;

    /// <summary>The first <paramref name="realCount"/> real records, then the first <paramref name="syntheticCount"/> synthetic ones, per replicate.</summary>
    public abstract TBatch Combine(TBatch real, int realCount, TBatch synthetic, int syntheticCount);

    /// <summary>The batch with replicate r's records in the order <paramref name="orders"/>[r] (record i of the result is record orders[r][i]).</summary>
    public abstract TBatch Reorder(TBatch batch, int[][] orders);

    /// <summary>The synthetic pool made of the generator's samples (a biased generator moves them); by default the samples as drawn.</summary>
    public virtual TBatch Synthetic(TBatch sampled) => sampled;

    /// <summary>Scores every replicate's current fit on the seed's real test data.</summary>
    public abstract MixScore[] Evaluate();

    public void Generate(uint seed, int firstReplicate, int generatorReal, int poolSize)
    {
        var orders = new int[Replicates][];
        Parallel.For(0, Replicates, r => orders[r] = HostSampling.Permutation(
            new RandomStream(seed, (uint)(firstReplicate + r), 0, RandomStreams.MixRealOrder), generatorReal));
        real = Reorder(Family.DrawReal(generatorReal), orders);
        if (poolSize <= 0) return;
        if (FitsGenerator) Family.Fit(real);
        synthetic = Synthetic(Family.Sample(poolSize, 2));
    }

    public MixScore[] FitAndScore(int numReal, int numSynthetic)
    {
        if (real is null) throw new InvalidOperationException("generate before fitting");
        using (var fit = Combine(real, numReal, synthetic ?? real, numSynthetic))
            Family.Fit(fit);
        return Evaluate();
    }

    public virtual void Dispose()
    {
        synthetic?.Dispose();
        real?.Dispose();
        Family.Dispose();
    }
}
