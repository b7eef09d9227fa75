using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// How each kernel runs: loaded by ILGPU (GPUs, and the CPU accelerator when the ILGPU path is
// forced), or, on the CPU path, the same static method called on host threads. ILGPU's CPU
// accelerator hands every launch to all of its worker threads (32 on 2 cores), which cost 0.7-2 ms
// per launch on this shared machine, for a few microseconds of work. On the host, a launch of n
// threads is a Parallel.For over n grid-stride workers, or a plain call when n is 1. The CPU path
// uses this only for the cheap kernels (cross-entropy, loss sums, clip factor, sampling step):
// ArrayView accesses on the host cost ~2 ns each, so the busy operations have pointer versions in
// Cpu/CpuLm.cs and Cpu/SimdMatMul.cs.
public sealed partial class LmKernels
{
    /// <summary>Items below which a host launch runs on the calling thread: splitting costs more than it saves.</summary>
    const long HostSerialItems = 4096;

    /// <summary>Logical threads for a grid-stride launch over <paramref name="items"/>.</summary>
    int Threads(long items) => OnHost
        ? items < HostSerialItems ? 1 : Environment.ProcessorCount
        : Accelerators.LaunchSize.For(accelerator, items);

    /// <summary>Every launch through <see cref="Load{T1, T2, T3}"/> and its siblings, on the host or the device.</summary>
    public Accelerators.LaunchCounter Counter { get; } = new();

    void RunOnHost(Index1D threads, Action<Index1D> body)
    {
        Counter.Launched();
        accelerator.Synchronize(); // copies and memsets queued on the accelerator land first
        if (threads.X == 1) body(new Index1D(0));
        else Parallel.For(0, threads.X, CpuParallel.OneWorkerPerCore, t => body(new Index1D(t)));
    }

    Action<Index1D, T1, T2, T3> Load<T1, T2, T3>(Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
    {
        if (OnHost) return (threads, a1, a2, a3) => RunOnHost(threads, t => kernel(t, a1, a2, a3));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3);
        };
    }

    Action<Index1D, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<Index1D, T1, T2, T3, T4> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<Index1D, T1, T2, T3, T4, T5> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<Index1D, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Load<T1, T2, T3, T4, T5, T6, T7>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Load<T1, T2, T3, T4, T5, T6, T7, T8>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7, a8) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7, a8));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7, a8) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7, a8);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7, a8, a9));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7, a8, a9);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
        };
    }

    Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
        where T7 : struct
        where T8 : struct
        where T9 : struct
        where T10 : struct
        where T11 : struct
        where T12 : struct
    {
        if (OnHost) return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) => RunOnHost(threads, t => kernel(t, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12));
        var loaded = accelerator.LoadAutoGroupedStreamKernel(kernel);
        return (threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) =>
        {
            Counter.Launched();
            loaded(threads, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
        };
    }
}
