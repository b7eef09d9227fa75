using System.Globalization;
using Collapse.Engine.Families;
using Collapse.Engine.Families.Lm;
using Collapse.Engine.Results;

namespace Collapse.Engine.Mix;

/// <summary>
/// The language model in the mix study: the generator is trained for one epoch on the seed's real
/// set and samples at temperature 1; every grid point trains a fresh model from the seed's initial
/// weights for one epoch over its num_real + num_synthetic documents (Accumulate's budget rule: all
/// the data); the test metric is the cross-entropy on the corpus's held-out real test names.
/// </summary>
public sealed class LmMixModels(LmFamily family, string preset) : MixModels(family)
{
    public static readonly IReadOnlyList<string> Columns = ["preset", "train_loss", "steps"];

    public override IDataBatch Combine(IDataBatch real, int realCount, IDataBatch synthetic, int syntheticCount) =>
        NamesBatch.Concat((NamesBatch)real, realCount, (NamesBatch)synthetic, syntheticCount);

    public override IDataBatch Reorder(IDataBatch batch, int[][] orders)
    {
        var names = (NamesBatch)batch;
        return new NamesBatch([.. names.Names.Select((set, r) => orders[r].Select(i => set[i]).ToArray())]);
    }

    public override MixScore[] Evaluate()
    {
        var metrics = new double[Replicates, LmFamily.Metrics.Count];
        family.Evaluate(metrics);
        var steps = family.LastFitSteps.ToString(CultureInfo.InvariantCulture);
        return [.. Enumerable.Range(0, Replicates).Select(r => new MixScore(metrics[r, 0], [preset, CsvNumber.Format(metrics[r, 1]), steps],
            !double.IsFinite(metrics[r, 0]) ? ("test_metric", metrics[r, 0]) : !double.IsFinite(metrics[r, 1]) ? ("train_loss", metrics[r, 1]) : null))];
    }
}
