using Collapse.Engine.Data;

namespace Collapse.Benchmarks.Scenarios;

[BenchmarkQuestion("How many replicate-iterations per second does one KDE iteration of each setting run (500 test points, h = 0.1), " +
                   "one replicate alone or 100 batched in one launch, at the paper's sizes?")]
public class KdeScenarioBenchmark : ScenarioIterationBenchmark
{
    [Params(ToyDataset.Moons, ToyDataset.SwissRoll)]
    public ToyDataset Dataset { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    protected override IWorkload Create(Accelerator accelerator, KernelPath path) =>
        ScenarioIterationWorkload.Kde(accelerator, path, Setting, Dataset, 0.1, N, Replicates);
}
