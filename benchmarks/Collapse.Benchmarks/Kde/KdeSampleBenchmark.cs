namespace Collapse.Benchmarks.Kde;

[BenchmarkQuestion("How many points per second does KDE sampling draw (a uniformly chosen fitted point plus N(0, h²I)), " +
                   "as many as there are fitted points, 2-D, 10 replicates? The reference draws the same numbers in a plain loop.")]
public class KdeSampleBenchmark : KernelBenchmark
{
    public const int Replicates = 10, Dim = 2;

    [Params(1_000, 100_000)]
    public int Count { get; set; }

    public override Work WorkPerOperation => KdeSampleWorkload.WorkFor(Count, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new KdeSampleWorkload(accelerator, path, Dim, Count, Count, Replicates, 0.5);
}
