using Collapse.Engine.Data;
using Collapse.Engine.Families;
using Collapse.Engine.Families.Kde;
using Collapse.Engine.Families.Points;
using Collapse.Engine.Results;
using ILGPU.Runtime;

namespace Collapse.Engine.Mix;

/// <summary>
/// The kernel density estimator in the mix study: the generator is the KDE of the seed's real set
/// (its samples are real points plus N(0, h²I) noise); the test metric is the KDE family's own,
/// the mean NLL of the seed's held-out real test points.
/// </summary>
public sealed class KdeMixModels(Accelerator accelerator, KdeFamily family) : MixModels(family)
{
    public static readonly IReadOnlyList<string> Columns = ["dataset", "bandwidth"];

    readonly PointBuffers buffers = new(accelerator);
    readonly string[] extra = [family.Dataset.Name(), family.Bandwidth.ToString()];

    public override IDataBatch Combine(IDataBatch real, int realCount, IDataBatch synthetic, int syntheticCount) =>
        PointsBatch.Concat(buffers, Replicates, family.Dim, (PointsBatch)real, realCount, (PointsBatch)synthetic, syntheticCount);

    public override IDataBatch Reorder(IDataBatch batch, int[][] orders)
    {
        ((PointsBatch)batch).Reorder(orders, family.Dim);
        return batch;
    }

    public override MixScore[] Evaluate()
    {
        var metrics = new double[Replicates, 1];
        family.Evaluate(metrics);
        return [.. Enumerable.Range(0, Replicates).Select(r =>
            new MixScore(metrics[r, 0], extra, double.IsFinite(metrics[r, 0]) ? null : ("test_metric", metrics[r, 0])))];
    }

    public override void Dispose()
    {
        base.Dispose();
        buffers.Dispose();
    }
}
