using Collapse.Engine.Families;

namespace Collapse.Engine.Mix;

/// <summary>One grid fit's scores for one replicate: the test metric, the family's extra columns (formatted), and the first value the model does not define.</summary>
public readonly record struct MixScore(double Metric, string[] Extra, (string Column, double Value)? NonFinite);

/// <summary>
/// One batch of seeds of the value-of-synthetic-data study (docs/DESIGN.md, section D) for one model
/// family: the family's models behind <see cref="IModelFamily"/>, plus the three things the study
/// needs beyond it — joining real and synthetic records into one fit's data, how the generator's
/// samples become the synthetic pool, and the study's test metric with the family's own columns.
/// </summary>
public abstract class MixModels(IModelFamily family) : IDisposable
{
    /// <summary>The models: the generator first (fitted to the real set), then each grid point's fresh fit.</summary>
    public IModelFamily Family { get; } = family;

    public int Replicates => Family.Replicates;

    /// <summary>Whether the generator is fitted to the real set; false: the family's initial model (the truth) generates.</summary>
    public virtual bool FitsGenerator => true;

    /// <summary>The first <paramref name="realCount"/> real records, then the first <paramref name="syntheticCount"/> synthetic ones, per replicate.</summary>
    public abstract IDataBatch Combine(IDataBatch real, int realCount, IDataBatch synthetic, int syntheticCount);

    /// <summary>The batch with replicate r's records in the order <paramref name="orders"/>[r] (record i of the result is record orders[r][i]).</summary>
    public abstract IDataBatch Reorder(IDataBatch batch, int[][] orders);

    /// <summary>The synthetic pool made of the generator's samples (a biased generator moves them); by default the samples as drawn.</summary>
    public virtual IDataBatch Synthetic(IDataBatch sampled) => sampled;

    /// <summary>Scores every replicate's current fit on the seed's real test data.</summary>
    public abstract MixScore[] Evaluate();

    public virtual void Dispose() => Family.Dispose();
}
