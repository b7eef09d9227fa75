using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Accelerators;

/// <summary>
/// Kernel launches on one accelerator, one thread at a time. An OpenCL launch sets the kernel object's arguments and
/// then enqueues it; two threads launching one kernel object at once can enqueue each other's arguments (clSetKernelArg
/// is not thread-safe on one kernel, and ILGPU may hand two loaders the same kernel object). Reproduced on PoCL: tests of
/// two classes sharing one instance got NaN losses in 1 run of 4. A launch only queues work, so the lock is held for
/// microseconds. <see cref="Serialized{T1}(Action{Index1D, T1}, Accelerator)"/> and its siblings wrap a loaded kernel.
/// </summary>
public static class LaunchLock
{
    static readonly ConditionalWeakTable<Accelerator, object> Gates = new();

    /// <summary>The lock every launch on <paramref name="accelerator"/> takes.</summary>
    public static object For(Accelerator accelerator) => Gates.GetValue(accelerator, _ => new object());

    public static Action<Index1D, T1> Serialized<T1>(this Action<Index1D, T1> kernel, Accelerator accelerator) where T1 : struct
    {
        var gate = For(accelerator);
        return (extent, a1) =>
        {
            lock (gate) kernel(extent, a1);
        };
    }

    public static Action<Index1D, T1, T2> Serialized<T1, T2>(this Action<Index1D, T1, T2> kernel, Accelerator accelerator) where T1 : struct where T2 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2) =>
        {
            lock (gate) kernel(extent, a1, a2);
        };
    }

    public static Action<Index1D, T1, T2, T3> Serialized<T1, T2, T3>(this Action<Index1D, T1, T2, T3> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3) =>
        {
            lock (gate) kernel(extent, a1, a2, a3);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4> Serialized<T1, T2, T3, T4>(this Action<Index1D, T1, T2, T3, T4> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5> Serialized<T1, T2, T3, T4, T5>(this Action<Index1D, T1, T2, T3, T4, T5> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6> Serialized<T1, T2, T3, T4, T5, T6>(this Action<Index1D, T1, T2, T3, T4, T5, T6> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Serialized<T1, T2, T3, T4, T5, T6, T7>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Serialized<T1, T2, T3, T4, T5, T6, T7, T8>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
        };
    }

    public static Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13>(this Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct where T13 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
        };
    }

    public static Action<KernelConfig, T1> Serialized<T1>(this Action<KernelConfig, T1> kernel, Accelerator accelerator) where T1 : struct
    {
        var gate = For(accelerator);
        return (extent, a1) =>
        {
            lock (gate) kernel(extent, a1);
        };
    }

    public static Action<KernelConfig, T1, T2> Serialized<T1, T2>(this Action<KernelConfig, T1, T2> kernel, Accelerator accelerator) where T1 : struct where T2 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2) =>
        {
            lock (gate) kernel(extent, a1, a2);
        };
    }

    public static Action<KernelConfig, T1, T2, T3> Serialized<T1, T2, T3>(this Action<KernelConfig, T1, T2, T3> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3) =>
        {
            lock (gate) kernel(extent, a1, a2, a3);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4> Serialized<T1, T2, T3, T4>(this Action<KernelConfig, T1, T2, T3, T4> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5> Serialized<T1, T2, T3, T4, T5>(this Action<KernelConfig, T1, T2, T3, T4, T5> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6> Serialized<T1, T2, T3, T4, T5, T6>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> Serialized<T1, T2, T3, T4, T5, T6, T7>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Serialized<T1, T2, T3, T4, T5, T6, T7, T8>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
        };
    }

    public static Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> Serialized<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13>(this Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> kernel, Accelerator accelerator) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct where T13 : struct
    {
        var gate = For(accelerator);
        return (extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) =>
        {
            lock (gate) kernel(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
        };
    }
}
