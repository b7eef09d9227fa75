namespace Collapse.Benchmarks.Gaussian;

[BenchmarkQuestion("How fast is the Gaussian fit's mean and scatter matrix of n points, for 100 replicates at the paper's sizes? " +
                   "Work: n·d(d + 3) flops per replicate (mean, centring, the scatter's lower triangle as multiply-adds).")]
public class GaussianFitBenchmark : KernelBenchmark
{
    public const int Replicates = 100;

    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    public override Work WorkPerOperation => GaussianMomentsWorkload.WorkFor(Dim, N, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new GaussianMomentsWorkload(accelerator, path, Dim, N, Replicates);
}
