namespace Collapse.Benchmarks.Gaussian;

[BenchmarkQuestion("How many points per second does a fit to a fresh sample take in (draw n points from 100 fitted Gaussians, then their mean and " +
                   "scatter)? On the CPU path, from n = 4d, the points are never drawn: the moments come from the normals " +
                   "(x̄ = μ + P·L·z̄, M2 = P·L·M2_z·Lᵀ·Pᵀ); elsewhere the points are drawn and then fitted. The reference draws and fits them in plain float64.")]
public class GaussianSampleFitBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    public override Work WorkPerOperation => GaussianSampleFitWorkload.WorkFor(N, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new GaussianSampleFitWorkload(accelerator, path, Dim, N, Replicates);
}
