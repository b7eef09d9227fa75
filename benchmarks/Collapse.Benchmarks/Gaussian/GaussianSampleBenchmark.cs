namespace Collapse.Benchmarks.Gaussian;

[BenchmarkQuestion("How many points per second does sampling draw from 100 fitted full-rank Gaussians (normals, then x = μ + F·z) " +
                   "at the paper's sizes? The reference draws the same normals and multiplies by a plain Cholesky factor.")]
public class GaussianSampleBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    public override Work WorkPerOperation => GaussianSampleWorkload.WorkFor(N, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new GaussianSampleWorkload(accelerator, path, Dim, N, Replicates);
}
