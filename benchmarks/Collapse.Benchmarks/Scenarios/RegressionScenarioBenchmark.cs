namespace Collapse.Benchmarks.Scenarios;

[BenchmarkQuestion("How many replicate-iterations per second does one linear-regression iteration of each setting run, one replicate " +
                   "alone or 100 batched in one launch, at the authors' sizes (σ² = 1)?")]
public class RegressionScenarioBenchmark : ScenarioIterationBenchmark
{
    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    protected override IWorkload Create(Accelerator accelerator, KernelPath path) =>
        ScenarioIterationWorkload.Regression(accelerator, path, Setting, Dim, N, 1.0, Replicates);
}
