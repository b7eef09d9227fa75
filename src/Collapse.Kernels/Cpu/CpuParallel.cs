namespace Collapse.Kernels.Cpu;

/// <summary>How the CPU path's loops over replicates run.</summary>
public static class CpuParallel
{
    /// <summary>
    /// One worker per core. Unbounded, Parallel.For spread each loop over every thread-pool
    /// thread, a dozen threads time-slicing two cores.
    /// </summary>
    public static readonly ParallelOptions OneWorkerPerCore = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };
}
