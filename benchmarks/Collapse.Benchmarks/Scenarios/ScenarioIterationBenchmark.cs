using BenchmarkDotNet.Attributes;
using Collapse.Benchmarks.Harness;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;
using Collapse.Performance.Targets;
using Collapse.Performance.Workloads;
using ILGPU.Runtime;

namespace Collapse.Benchmarks.Scenarios;

/// <summary>
/// One scenario iteration (draw, fit as the setting says, metrics) of a model family, batched over
/// R replicates, on each accelerator present; throughput in replicate-iterations per second. A
/// family's benchmark adds its sizes as [Params] and builds its step: <see cref="GaussianScenarioBenchmark"/>
/// today; the KDE family's (KdeScenarioBenchmark) belongs beside it once that family lands.
/// </summary>
public abstract class ScenarioIterationBenchmark : IMeasuredWork
{
    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = BenchmarkTarget.Cpu;

    public static IEnumerable<string> Accelerators() => AcceleratorParams.Present();

    [Params(Setting.Replace, Setting.Accumulate, Setting.AccumulateSubsample)]
    public Setting Setting { get; set; }

    [Params(1, 100)]
    public int Replicates { get; set; }

    public Work WorkPerOperation => ScenarioIterationWorkload.WorkFor(Replicates);

    protected abstract IWorkload Create(Accelerator accelerator, KernelPath path);

    ComputeDevice device = null!;
    IWorkload workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        var target = BenchmarkTarget.Parse(Accelerator);
        device = target.Open();
        workload = Create(device.Accelerator, target.Path);
    }

    [Benchmark]
    public void Iteration() => workload.Run();

    [GlobalCleanup]
    public void Cleanup()
    {
        workload.Dispose();
        device.Dispose();
    }
}
