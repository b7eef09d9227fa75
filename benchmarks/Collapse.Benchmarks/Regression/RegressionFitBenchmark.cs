namespace Collapse.Benchmarks.Regression;

[BenchmarkQuestion("How fast is Accumulate-Subsample's least-squares fit (weighted Gram of n design rows, pivoted Cholesky, Xᵀs, solve) " +
                   "of 100 replicates at the authors' sizes? Work: m·d² + d³/3 + 2n·d + 2d² flops per replicate (m picked rows); " +
                   "the reference is a plain Gram, unpivoted Cholesky and triangular solves.")]
public class RegressionFitBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(10, 32, 100)]
    public int Dim { get; set; }

    [Params(316, 1000)]
    public int N { get; set; }

    public override Work WorkPerOperation => RegressionFitWorkload.WorkFor(Dim, N, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new RegressionFitWorkload(accelerator, path, Dim, N, Replicates);
}
