namespace Collapse.Benchmarks.Random;

[BenchmarkQuestion("How many standard normals per second does each accelerator draw for a batch of 100 replicates " +
                   "(the data method draws n·d per replicate and iteration: 1,000 at d = 10, n = 100; 100,000 at d = 100, n = 1000)? " +
                   "The reference is the scalar definition, Philox.Normal; all paths give the same bits.")]
public class NormalsBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(1_000, 100_000)]
    public int PerReplicate { get; set; }

    public override Work WorkPerOperation => NormalsWorkload.WorkFor(PerReplicate, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new NormalsWorkload(accelerator, path, PerReplicate, Replicates);
}
