using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Benchmarks.Random;

/// <summary>
/// Question: how many standard normals per second does each path produce (the data method draws
/// n·d of them per replicate and iteration)? The scalar definition is the baseline; all three
/// produce the same bits. Op/s counts normals.
/// </summary>
[Config(typeof(Config))]
public class NormalsBenchmark
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(StatisticColumn.OperationsPerSecond);
    }

    const int Count = 1 << 20;

    ComputeDevice device = null!;
    RandomKernels kernels = null!;
    MemoryBuffer1D<float, Stride1D.Dense> buffer = null!;
    readonly float[] host = new float[Count];
    readonly RandomStream stream = new(1, 0, 2, 2);

    [GlobalSetup]
    public void Setup()
    {
        device = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        kernels = new RandomKernels(device.Accelerator);
        buffer = device.Accelerator.Allocate1D<float>(Count);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Count)]
    public void ScalarDefinition()
    {
        for (var i = 0; i < Count; i++) host[i] = Philox.Normal(stream, (ulong)i);
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public void Avx2OneThread() => SimdNormals.Fill(stream, 0, host);

    [Benchmark(OperationsPerInvoke = Count)]
    public void IlgpuCpuAccelerator()
    {
        kernels.Normals(stream, 0, 1, Count, buffer.View);
        device.Accelerator.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        buffer.Dispose();
        device.Dispose();
    }
}
