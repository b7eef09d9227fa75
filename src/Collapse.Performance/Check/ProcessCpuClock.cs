using System.Runtime.InteropServices;

namespace Collapse.Performance.Check;

/// <summary>
/// CPU time spent by every thread of this process (Linux: CLOCK_PROCESS_CPUTIME_ID, nanosecond
/// resolution), else wall time. On a machine whose cores other processes are using, wall time
/// counts the time our threads wait for a core; CPU time counts only the work, so a kernel measured
/// beside a compiler takes about the CPU time it takes alone.
/// </summary>
static partial class ProcessCpuClock
{
    const int ProcessCpuTimeId = 2;

    public static bool IsCpuTime { get; } = OperatingSystem.IsLinux() && TryRead(out _);

    public static string Description => IsCpuTime ? "process CPU time" : "wall time";

    public static double Seconds() => IsCpuTime && TryRead(out var seconds) ? seconds : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    static bool TryRead(out double seconds)
    {
        seconds = 0;
        try
        {
            if (ClockGetTime(ProcessCpuTimeId, out var time) != 0) return false;
            seconds = time.Seconds + time.Nanoseconds * 1e-9;
            return true;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
