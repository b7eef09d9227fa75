namespace Collapse.Benchmarks.Gaussian;

[BenchmarkQuestion("How fast is the pivoted Cholesky factorization of 100 fitted covariances (full rank) at the paper's dimensions, " +
                   "one thread per replicate against one group per replicate (the ILGPU kernels; the CPU's SIMD path ignores Grouped)? " +
                   "Work: d³/3 flops per replicate; the reference is a plain unpivoted Cholesky.")]
public class GaussianFactorizeBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(3, 10, 31, 100)]
    public int Dim { get; set; }

    [Params(false, true)]
    public bool Grouped { get; set; }

    public override Work WorkPerOperation => GaussianFactorizeWorkload.WorkFor(Dim, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new GaussianFactorizeWorkload(accelerator, path, Dim, Replicates, Grouped);
}
