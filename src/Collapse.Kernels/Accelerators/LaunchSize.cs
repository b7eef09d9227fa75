using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

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

    /// <summary>
    /// A GPU: CUDA, or an OpenCL device that says it is one. Kernels shaped for a GPU (a group per replicate)
    /// lose on a CPU device, where a thread per replicate already fills the few cores (PoCL on 2 cores: the
    /// grouped factorization 3× slower), so they are the default only here.
    /// </summary>
    public static bool IsGpu(Accelerator accelerator) =>
        accelerator.AcceleratorType == AcceleratorType.Cuda
        || accelerator is CLAccelerator cl && (cl.DeviceType & CLDeviceType.CL_DEVICE_TYPE_GPU) != 0;
}
