using ILGPU.Runtime;

namespace Collapse.Kernels.Accelerators;

/// <summary>
/// How many logical threads a grid-stride kernel launches. ILGPU's CPU accelerator pays about
/// 1.5 µs per logical thread, so on the CPU we launch a few threads per core and let each
/// stride over many items; on a GPU we fill every multiprocessor.
/// </summary>
public static class LaunchSize
{
    public static int For(Accelerator accelerator, long workItems)
    {
        if (workItems <= 0) return 1;
        // CPU: a handful of logical threads per core (each costs ~1.5 µs to schedule);
        // GPU: enough threads to fill every multiprocessor.
        long threads = (long)accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor;
        return (int)Math.Max(1, Math.Min(workItems, threads));
    }
}
