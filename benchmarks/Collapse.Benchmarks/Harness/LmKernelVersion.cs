using Collapse.Kernels.Lm;

namespace Collapse.Benchmarks.Harness;

/// <summary>
/// The LM benchmarks' kernel-version parameter (BenchmarkDotNet takes no nullable enum): the target's own
/// version (<see cref="LmKernels.Choose"/>: the CPU path on <c>cpu</c>, the plain kernels on <c>cpu-ilgpu</c>, the
/// shaped ones on OpenCL and CUDA), or the plain or the GPU-shaped kernels on any target.
/// </summary>
public enum LmKernelVersion
{
    Default,
    Plain,
    Shaped,
}

public static class LmKernelVersions
{
    /// <summary>The <see cref="LmVersion"/> to ask for; null: the target's own.</summary>
    public static LmVersion? Requested(this LmKernelVersion version) => version switch
    {
        LmKernelVersion.Plain => LmVersion.Plain,
        LmKernelVersion.Shaped => LmVersion.Shaped,
        _ => null,
    };
}
