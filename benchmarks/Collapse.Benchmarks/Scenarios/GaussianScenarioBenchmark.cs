namespace Collapse.Benchmarks.Scenarios;

[BenchmarkQuestion("How many replicate-iterations per second does one Gaussian iteration of each setting run, one replicate " +
                   "alone or 100 batched in one launch, at the paper's sizes (the data method)?")]
public class GaussianScenarioBenchmark : ScenarioIterationBenchmark
{
    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    protected override IWorkload Create(Accelerator accelerator, KernelPath path) =>
        ScenarioIterationWorkload.Gaussian(accelerator, path, Setting, Dim, N, Replicates);
}
