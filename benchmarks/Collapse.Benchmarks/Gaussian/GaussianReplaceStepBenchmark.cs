using Collapse.Engine.Families;
using Collapse.Engine.Families.Gaussian;
using Collapse.Kernels.Gaussian;

namespace Collapse.Benchmarks.Gaussian;

/// <summary>
/// Question: on the CPU, how much faster is the SIMD C# path than the ILGPU kernels for one
/// Replace step (sample n points per replicate, fit mean and covariance, factorize), the step
/// the data method repeats 100 times per seed?
/// </summary>
[MemoryDiagnoser(false)]
public class GaussianReplaceStepBenchmark
{
    [Params(KernelPath.Auto, KernelPath.Ilgpu)]
    public KernelPath Path { get; set; }

    [Params(10, 100)]
    public int Dim { get; set; }

    [Params(100, 1000)]
    public int N { get; set; }

    public const int Replicates = 20;

    ComputeDevice device = null!;
    GaussianFamily family = null!;
    MetricTable metrics = null!;
    int iteration = 2;

    [GlobalSetup]
    public void Setup()
    {
        device = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        family = new GaussianFamily(device.Accelerator, new GaussianKernels(device.Accelerator, Path), Dim, Replicates, 0, 1);
        metrics = new MetricTable(Replicates, family.Metrics);
        using var real = family.DrawReal(N);
        family.Fit(real);
    }

    /// <summary>One Replace step for all replicates: ~2·n·d² flops each (n·d² transform, n·d²/2 scatter, ×2 for multiply-add).</summary>
    [Benchmark]
    public void ReplaceStep()
    {
        using var data = family.Sample(N, iteration++);
        family.Fit(data);
        family.Evaluate(metrics, null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        family.Dispose();
        device.Dispose();
    }
}
