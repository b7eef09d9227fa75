using Collapse.Kernels.Accelerators;

namespace Collapse.Engine.Sweeps;

/// <summary>How many replicates of a cell one batch may hold.</summary>
public static class MemoryBudget
{
    /// <summary>
    /// Replicates per batch within <paramref name="budgetBytes"/>; throws <see cref="UsageException"/>
    /// (naming the cell and what to shrink) when a single replicate cannot fit the device at all.
    /// </summary>
    public static int ReplicatesPerBatch(ComputeDevice device, long bytesPerReplicate, long budgetBytes, int seeds,
        string cell, string advice)
    {
        var available = device.IsCpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.Accelerator.MemorySize;
        if (bytesPerReplicate > available * 0.8)
            throw new UsageException($"cell {cell} needs {bytesPerReplicate / 1e9:F1} GB for a single seed, more than this " +
                $"{(device.IsCpu ? "machine" : "device")} has ({available / 1e9:F1} GB): {advice}");
        return (int)Math.Clamp(budgetBytes / Math.Max(1, bytesPerReplicate), 1, seeds);
    }
}
