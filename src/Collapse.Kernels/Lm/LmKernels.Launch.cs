using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// How each kernel runs: loaded by ILGPU (GPUs, and the CPU accelerator for the plain and shaped
// versions), or, on the CPU path, the same static method called on host threads. ILGPU's CPU
// accelerator hands every launch to all of its worker threads (32 on 2 cores), which cost 0.7-2 ms
// per launch on this shared machine, for a few microseconds of work. On the host, a launch of n
// threads is a CpuParallel.For over n grid-stride workers, or a plain call when n is 1. The CPU path
// uses this only for the cheap kernels (cross-entropy, loss sums, clip factor, sampling step):
// ArrayView accesses on the host cost ~2 ns each, so the busy operations have pointer versions
// (the XCpu classes beside their kernels in Lm/Ops/). Every kernel takes one argument struct and
// its launch's thread count (the grid stride).
public sealed partial class LmKernels
{
    /// <summary>Items below which a host launch runs on the calling thread: splitting costs more than it saves.</summary>
    const long HostSerialItems = 4096;

    /// <summary>Logical threads for a grid-stride launch over <paramref name="items"/>.</summary>
    int Threads(long items) => OnHost
        ? items < HostSerialItems ? 1 : Environment.ProcessorCount
        : Accelerators.LaunchSize.For(accelerator, items);

    /// <summary>Every launch through <see cref="Load{T}"/> and <see cref="LoadGrouped{T}"/>, on the host or the device.</summary>
    public Accelerators.LaunchCounter Counter { get; } = new();

    /// <summary>Held while a kernel is launched: see <see cref="Accelerators.LaunchLock"/>.</summary>
    object Launching => launching ??= Accelerators.LaunchLock.For(accelerator);
    object? launching;

    /// <summary>A grid-stride kernel over <paramref name="items"/>, with as many threads as <see cref="Threads"/> gives.</summary>
    void Launch<T>(Action<Index1D, T, int> kernel, long items, T args) where T : struct
    {
        var threads = Threads(items);
        kernel(threads, args, threads);
    }

    /// <param name="groupSize">Threads a group on the device (see <see cref="BlockedMatMulKernels.GroupSize"/>); 0: ILGPU's choice.</param>
    Action<Index1D, T, int> Load<T>(Action<Index1D, T, int> kernel, int groupSize = 0) where T : struct
    {
        if (OnHost)
            return (threads, args, stride) =>
            {
                Counter.Launched();
                accelerator.Synchronize(); // copies and memsets queued on the accelerator land first
                if (threads.X == 1) kernel(new Index1D(0), args, stride);
                else CpuParallel.For(threads.X, t => kernel(new Index1D((int)t), args, stride));
            };
        var loaded = groupSize > 0 ? accelerator.LoadImplicitlyGroupedStreamKernel(kernel, groupSize) : accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, args, stride) =>
        {
            Counter.Launched();
            lock (Launching) loaded(threads, args, stride);
        };
    }

    /// <summary>An explicitly grouped kernel (the shaped versions), launched with its own grid, group and shared memory.</summary>
    Action<KernelConfig, T> LoadGrouped<T>(Action<T> kernel) where T : struct
    {
        var loaded = accelerator.LoadStreamKernel(kernel);
        return (config, args) =>
        {
            Counter.Launched();
            lock (Launching) loaded(config, args);
        };
    }
}
