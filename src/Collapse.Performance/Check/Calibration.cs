using Collapse.Kernels.Cpu;
using Collapse.Performance.Reference;
using Collapse.Performance.Workloads;

namespace Collapse.Performance.Check;

/// <summary>
/// The yardstick every perf-check kernel is divided by: fixed plain-C# float64 work (the plain KDE
/// scores of 64 small cached point sets: distances, exponentials, sums held in registers) spread
/// over every core the way the CPU kernels spread replicates. A slower machine, or one whose cores
/// another process shares, slows it about as much as it slows the kernels, so the ratio stays put;
/// a change to a kernel does not move it. Its inner loops store nothing: a first version that
/// accumulated scatter matrices in memory ran 20% faster or slower from one process to the next,
/// as its arrays happened to land (store-to-load aliasing).
/// </summary>
public sealed class Calibration
{
    const int Sets = 64, Test = 16, Fitted = 256, Dim = 4;
    readonly double[] test = HostData.Points(Sets, Test, Dim, Dim, 8);
    readonly double[] fitted = HostData.Points(Sets, Fitted, Dim, Dim, 9);
    readonly double[] scores = new double[Sets * Test];

    public void Run() => Parallel.For(0, Sets, CpuParallel.OneWorkerPerCore, s =>
    {
        var points = fitted.AsSpan(s * Fitted * Dim, Fitted * Dim);
        for (var t = 0; t < Test; t++)
            scores[s * Test + t] = PlainKde.LogSumExp(test.AsSpan((s * Test + t) * Dim, Dim), points, Fitted, Dim, 0.5);
    });
}
