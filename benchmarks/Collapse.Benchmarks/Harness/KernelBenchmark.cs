using Collapse.Performance.Targets;

namespace Collapse.Benchmarks.Harness;

/// <summary>
/// A benchmark over the accelerators present: the <c>Accelerator</c> parameter, and a workload
/// set up on it once per case and disposed after.
/// </summary>
public abstract class AcceleratorBenchmark<TWorkload> : IMeasuredWork where TWorkload : IWorkload
{
    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = BenchmarkTarget.Cpu;

    public static IEnumerable<string> Accelerators() => AcceleratorParams.Present();

    public abstract Work WorkPerOperation { get; }

    protected abstract TWorkload Create(Accelerator accelerator, KernelPath path);

    ComputeDevice device = null!;

    protected TWorkload Workload { get; private set; } = default!;

    [GlobalSetup]
    public void Setup()
    {
        var target = BenchmarkTarget.Parse(Accelerator);
        device = target.Open();
        Workload = Create(device.Accelerator, target.Path);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Workload.Dispose();
        device.Dispose();
    }
}

/// <summary>
/// A kernel's benchmark: the kernel on each accelerator present beside its plain float64 reference
/// (the baseline, on the CPU), so every table shows the speedup. Subclasses add the sizes as
/// [Params] and build the workload.
/// </summary>
public abstract class KernelBenchmark : AcceleratorBenchmark<IKernelWorkload>
{
    /// <summary>The plain float64 reference: one thread, loops written for clarity.</summary>
    [Benchmark(Baseline = true)]
    public void Reference() => Workload.RunReference();

    /// <summary>The suite's kernel on this accelerator, synchronized.</summary>
    [Benchmark]
    public void Kernel() => Workload.Run();
}
