namespace Collapse.Benchmarks.Kde;

[BenchmarkQuestion("How many (test, fitted) kernel evaluations per second does KDE scoring make: 500 test points against " +
                   "10 to 100,000 fitted points (Accumulate's pool reaches 100,000 at n = 1000, t = 100), 2-D, 4 replicates? " +
                   "The reference is a plain two-pass log-sum-exp. SkipTolerance 0 scores every pair; the default skips " +
                   "leaves of fitted points whose terms provably sum to at most 1e-15 of the test point's (CPU path only).")]
public class KdeScoreBenchmark : KernelBenchmark
{
    public const int Replicates = 4, Test = 500, Dim = 2;

    [Params(10, 1_000, 100_000)]
    public int Fitted { get; set; }

    [Params(0.0, Kernels.Cpu.SimdKde.DefaultTolerance)]
    public double SkipTolerance { get; set; }

    public override Work WorkPerOperation => KdeScoreWorkload.WorkFor(Test, Fitted, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new KdeScoreWorkload(accelerator, path, Dim, Test, Fitted, Replicates, 0.5, SkipTolerance);
}
