using System.Collections.Concurrent;
using System.Runtime.Intrinsics;
using Collapse.Performance.Targets;

namespace Collapse.Performance.Probes;

/// <summary>
/// A device's measured limits, for the share-of-limit a throughput reaches: float64 FMA throughput
/// (the CPU only: a kernel would be needed on a GPU) and copy bandwidth (read + write bytes).
/// </summary>
public sealed record DeviceLimits(string Device, double? FlopsPerSecond, double? BytesPerSecond);

/// <summary>Measures <see cref="DeviceLimits"/> in this process, once per target.</summary>
public static class DeviceProbes
{
    static readonly ConcurrentDictionary<string, DeviceLimits> Measured = new();

    /// <summary>The limits of the device a target runs on; cpu and cpu-ilgpu share the CPU's.</summary>
    public static DeviceLimits For(string targetName)
    {
        var target = BenchmarkTarget.Parse(targetName);
        return target.IsCpu ? Cpu() : Measured.GetOrAdd(target.Name, _ => Accelerator(target));
    }

    public static DeviceLimits Cpu() => Measured.GetOrAdd("cpu", _ => new DeviceLimits(
        $"CPU, {Environment.ProcessorCount} cores", CpuFmaThroughput(), CpuCopyBandwidth()));

    /// <summary>
    /// Peak float64 FMA rate at 256 bits, the width the CPU kernels use (AVX2): every core runs
    /// chains of independent vector FMAs, enough to hide the latency; best of five. A CPU with two
    /// 512-bit FMA units could reach twice this with AVX-512 code; none of the kernels is such code.
    /// </summary>
    public static double CpuFmaThroughput()
    {
        const long steps = 4_000_000;
        var best = double.PositiveInfinity;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var clock = Stopwatch.StartNew();
            OnEveryCore(() => Fma(steps));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return Environment.ProcessorCount * steps * Chains * Vector256<double>.Count * 2.0 / best;
    }

    const int Chains = 12;

    /// <summary>Twelve independent FMA chains held in registers (locals, not an array: a store per FMA would halve the rate).</summary>
    static double Fma(long steps)
    {
        Vector256<double> a0 = Vector256.Create(0.001), a1 = Vector256.Create(0.002), a2 = Vector256.Create(0.003), a3 = Vector256.Create(0.004),
            a4 = Vector256.Create(0.005), a5 = Vector256.Create(0.006), a6 = Vector256.Create(0.007), a7 = Vector256.Create(0.008),
            a8 = Vector256.Create(0.009), a9 = Vector256.Create(0.010), a10 = Vector256.Create(0.011), a11 = Vector256.Create(0.012);
        var m = Vector256.Create(0.999999);
        var b = Vector256.Create(1e-7);
        for (long s = 0; s < steps; s++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, b); a1 = Vector256.FusedMultiplyAdd(a1, m, b); a2 = Vector256.FusedMultiplyAdd(a2, m, b);
            a3 = Vector256.FusedMultiplyAdd(a3, m, b); a4 = Vector256.FusedMultiplyAdd(a4, m, b); a5 = Vector256.FusedMultiplyAdd(a5, m, b);
            a6 = Vector256.FusedMultiplyAdd(a6, m, b); a7 = Vector256.FusedMultiplyAdd(a7, m, b); a8 = Vector256.FusedMultiplyAdd(a8, m, b);
            a9 = Vector256.FusedMultiplyAdd(a9, m, b); a10 = Vector256.FusedMultiplyAdd(a10, m, b); a11 = Vector256.FusedMultiplyAdd(a11, m, b);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    /// <summary>Copy bandwidth over buffers far larger than any cache, one slice per core, counting read and write bytes; best of five.</summary>
    public static double CpuCopyBandwidth()
    {
        const int length = 1 << 25; // 256 MiB of doubles
        var source = new double[length];
        var destination = new double[length];
        Array.Fill(source, 1.0);
        Array.Fill(destination, 0.0);
        var cores = Environment.ProcessorCount;
        var best = double.PositiveInfinity;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, c =>
            {
                var slice = length / cores;
                source.AsSpan(c * slice, slice).CopyTo(destination.AsSpan(c * slice, slice));
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * length * sizeof(double) / best;
    }

    /// <summary>A GPU's device-to-device copy bandwidth through ILGPU (read + write bytes), best of five; FMA rate unknown.</summary>
    static DeviceLimits Accelerator(BenchmarkTarget target)
    {
        using var device = target.Open();
        var accelerator = device.Accelerator;
        const long length = 1L << 25;
        using var source = accelerator.Allocate1D<double>(length);
        using var destination = accelerator.Allocate1D<double>(length);
        source.MemSetToZero();
        accelerator.Synchronize();
        var best = double.PositiveInfinity;
        for (var attempt = 0; attempt < 6; attempt++)
        {
            var clock = Stopwatch.StartNew();
            source.View.CopyTo(destination.View);
            accelerator.Synchronize();
            if (attempt > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return new DeviceLimits(device.Description, null, 2.0 * length * sizeof(double) / best);
    }

    static void OnEveryCore(Func<double> body)
    {
        var threads = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(() => GC.KeepAlive(body()))).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }
}
