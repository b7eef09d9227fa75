using Collapse.Engine.Families.Kde;

namespace Collapse.Engine.Mix;

/// <summary>
/// The kernel density estimator in the mix study: the generator is the KDE of the seed's real set
/// (its samples are real points plus N(0, h²I) noise); the test metric is the KDE family's own,
/// the mean NLL of the seed's held-out real test points.
/// </summary>
public sealed class KdeMixModels(Accelerator accelerator, KdeFamily family) : MixModels<PointsBatch>(family)
{
    public static readonly IReadOnlyList<string> Columns = ["dataset", "bandwidth"];

    readonly PointBuffers buffers = new(accelerator);
    readonly string[] extra = [family.Dataset.Name(), family.Bandwidth.ToString()];

    public override PointsBatch Combine(PointsBatch real, int realCount, PointsBatch synthetic, int syntheticCount) =>
        PointsBatch.Concat(buffers, Replicates, family.Dim, real, realCount, synthetic, syntheticCount);

    public override PointsBatch Reorder(PointsBatch batch, int[][] orders)
    {
        batch.Reorder(orders, family.Dim);
        return batch;
    }

    public override MixScore[] Evaluate()
    {
        var metrics = new MetricTable(Replicates, KdeFamily.All);
        family.Evaluate(metrics, null);
        return [.. Enumerable.Range(0, Replicates).Select(r => metrics[r, KdeFamily.NllTest]).Select(nll =>
            new MixScore(nll, extra, double.IsFinite(nll) ? null : ("test_metric", nll)))];
    }

    public override void Dispose()
    {
        base.Dispose();
        buffers.Dispose();
    }
}
