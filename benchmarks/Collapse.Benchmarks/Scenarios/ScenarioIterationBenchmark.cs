using Collapse.Engine.Scenarios;

namespace Collapse.Benchmarks.Scenarios;

/// <summary>
/// One scenario iteration (draw, fit as the setting says, metrics) of a model family, batched over
/// R replicates, on each accelerator present; throughput in replicate-iterations per second. A
/// family's benchmark adds its sizes as [Params] and builds its step: <see cref="GaussianScenarioBenchmark"/>,
/// <see cref="KdeScenarioBenchmark"/>.
/// </summary>
public abstract class ScenarioIterationBenchmark : AcceleratorBenchmark<IWorkload>
{
    [Params(Setting.Replace, Setting.Accumulate, Setting.AccumulateSubsample)]
    public Setting Setting { get; set; }

    [Params(1, 100)]
    public int Replicates { get; set; }

    public override Work WorkPerOperation => ScenarioIterationWorkload.WorkFor(Replicates);

    [Benchmark]
    public void Iteration() => Workload.Run();
}
