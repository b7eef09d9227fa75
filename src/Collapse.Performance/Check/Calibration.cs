using Collapse.Performance.Reference;
using Collapse.Performance.Workloads;

namespace Collapse.Performance.Check;

/// <summary>
/// The yardstick every perf-check kernel is divided by: fixed plain-C# float64 work (the scatter
/// matrices of 64 small cached point sets) spread over every core the way the CPU kernels spread
/// replicates. A slower machine, or one whose cores another process is using, slows it about as
/// much as it slows the kernels, so the ratio stays put; a change to a kernel does not move it.
/// </summary>
public sealed class Calibration
{
    const int Sets = 64, Points = 512, Dim = 16;
    readonly double[] points = HostData.Points(Sets, Points, Dim, Dim, 9);
    readonly double[][] means = Enumerable.Range(0, Sets).Select(_ => new double[Dim]).ToArray();
    readonly double[][] scatters = Enumerable.Range(0, Sets).Select(_ => new double[Dim * Dim]).ToArray();

    public void Run() => Parallel.For(0, Sets, HostData.OneWorkerPerCore, s =>
        PlainGaussian.Moments(points.AsSpan(s * Points * Dim, Points * Dim), Points, Dim, Dim, means[s], scatters[s]));
}
