namespace Collapse.Performance.Workloads;

/// <summary>What a workload's work is counted in; each unit gives its throughput a meaning.</summary>
public enum WorkUnit
{
    /// <summary>Floating-point operations (a fused multiply-add counts two).</summary>
    Flop,
    /// <summary>Bytes moved to or from memory.</summary>
    Byte,
    /// <summary>Random numbers or points drawn.</summary>
    Sample,
    /// <summary>(test point, fitted point) kernel evaluations.</summary>
    Pair,
    /// <summary>One scenario iteration of one replicate.</summary>
    ReplicateIteration,
}

/// <summary>How much work one run of a workload does.</summary>
public readonly record struct Work(double Amount, WorkUnit Unit);

/// <summary>One timed body: a kernel launch or a scenario step, finished (synchronized) when Run returns.</summary>
public interface IWorkload : IDisposable
{
    Work Work { get; }

    void Run();
}

/// <summary>A kernel's workload that also has a plain float64 reference doing the same work on the CPU.</summary>
public interface IKernelWorkload : IWorkload
{
    /// <summary>The plain reference (one thread, loops written for clarity) computing what <see cref="IWorkload.Run"/> computes.</summary>
    void RunReference();
}
