using BenchmarkDotNet.Attributes;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;
using Collapse.Performance.Targets;
using Collapse.Performance.Workloads;
using ILGPU.Runtime;

namespace Collapse.Benchmarks.Harness;

/// <summary>
/// A kernel's benchmark: the kernel on each accelerator present beside its plain float64 reference
/// (the baseline, on the CPU), so every table shows the speedup. Subclasses add the sizes as
/// [Params] and build the workload.
/// </summary>
public abstract class KernelBenchmark : IMeasuredWork
{
    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = BenchmarkTarget.Cpu;

    public static IEnumerable<string> Accelerators() => AcceleratorParams.Present();

    public abstract Work WorkPerOperation { get; }

    protected abstract IKernelWorkload Create(Accelerator accelerator, KernelPath path);

    ComputeDevice device = null!;
    IKernelWorkload workload = null!;

    [GlobalSetup]
    public void Setup()
    {
        var target = BenchmarkTarget.Parse(Accelerator);
        device = target.Open();
        workload = Create(device.Accelerator, target.Path);
    }

    /// <summary>The plain float64 reference: one thread, loops written for clarity.</summary>
    [Benchmark(Baseline = true)]
    public void Reference() => workload.RunReference();

    /// <summary>The suite's kernel on this accelerator, synchronized.</summary>
    [Benchmark]
    public void Kernel() => workload.Run();

    [GlobalCleanup]
    public void Cleanup()
    {
        workload.Dispose();
        device.Dispose();
    }
}
