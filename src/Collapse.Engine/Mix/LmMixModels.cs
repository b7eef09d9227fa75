namespace Collapse.Engine.Mix;

/// <summary>
/// The language model in the mix study: the generator is trained for one epoch on the seed's real
/// set and samples at temperature 1; every grid point trains a fresh model from the seed's initial
/// weights for one epoch over its num_real + num_synthetic documents (Accumulate's budget rule: all
/// the data); the test metric is the cross-entropy on the corpus's held-out real test names.
/// </summary>
public sealed class LmMixModels(LmFamily family, string preset) : MixModels<NamesBatch>(family)
{
    public static readonly IReadOnlyList<string> Columns = ["preset", "train_loss", "steps"];

    public override NamesBatch Combine(NamesBatch real, int realCount, NamesBatch synthetic, int syntheticCount) =>
        NamesBatch.Concat(real, realCount, synthetic, syntheticCount);

    public override NamesBatch Reorder(NamesBatch names, int[][] orders)
    {
        return new NamesBatch([.. names.Names.Select((set, r) => orders[r].Select(i => set[i]).ToArray())]);
    }

    public override MixScore[] Evaluate()
    {
        var metrics = new MetricTable(Replicates, LmFamily.All);
        family.Evaluate(metrics, null);
        var steps = family.LastFitSteps.ToString(CultureInfo.InvariantCulture);
        return [.. Enumerable.Range(0, Replicates).Select(r => (Test: metrics[r, LmFamily.TestLoss], Train: metrics[r, LmFamily.TrainLoss])).Select(m => new MixScore(m.Test, [preset, CsvNumber.Format(m.Train), steps],
            !double.IsFinite(m.Test) ? ("test_metric", m.Test) : !double.IsFinite(m.Train) ? ("train_loss", m.Train) : null))];
    }
}
