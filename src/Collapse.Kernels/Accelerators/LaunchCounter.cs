namespace Collapse.Kernels.Accelerators;

/// <summary>
/// Kernel launches and host↔device copies, counted where a launcher launches and a model copies: what a GPU
/// pays per launch (microseconds) and per blocking copy (a round trip) is invisible on the CPU, so the
/// benchmarks report the counts beside the times. Thread-safe; <see cref="Snapshot"/> and subtract to count a stretch of work.
/// </summary>
public sealed class LaunchCounter
{
    long launches, hostToDevice, deviceToHost;

    public void Launched() => Interlocked.Increment(ref launches);
    public void CopiedToDevice() => Interlocked.Increment(ref hostToDevice);
    public void CopiedToHost() => Interlocked.Increment(ref deviceToHost);

    public LaunchCounts Snapshot() => new(Interlocked.Read(ref launches), Interlocked.Read(ref hostToDevice), Interlocked.Read(ref deviceToHost));
}

/// <summary>Counts at one moment, or (by subtraction) over a stretch of work.</summary>
public readonly record struct LaunchCounts(long Launches, long HostToDevice, long DeviceToHost)
{
    public static LaunchCounts operator -(LaunchCounts a, LaunchCounts b) =>
        new(a.Launches - b.Launches, a.HostToDevice - b.HostToDevice, a.DeviceToHost - b.DeviceToHost);
}
