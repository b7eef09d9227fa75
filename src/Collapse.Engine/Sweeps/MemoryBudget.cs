using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>How many replicates of a cell one batch may hold, from an estimate of the bytes one replicate needs.</summary>
public static class MemoryBudget
{
    /// <summary>Memory a run may plan for: the device's (or, on the CPU, the host's available) memory, with a fifth spare.</summary>
    public static long Usable(ComputeDevice device) =>
        (long)(0.8 * (device.IsCpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.Accelerator.MemorySize));

    // The sweep configurations' names for n and for the iterations (GaussianSweepConfig's and KdeSweepConfig's).
    const string Samples = nameof(GaussianSweepConfig.Samples), Iterations = nameof(GaussianSweepConfig.Iterations);

    /// <summary>
    /// Replicates per batch within <paramref name="budgetBytes"/> (seeds are chunked into batches
    /// so any cell whose single seed fits runs). When one seed cannot fit the device at all, throws
    /// <see cref="InvalidParameterException"/> on the samples with the estimate and the largest n that would fit.
    /// </summary>
    /// <param name="bytesForN">Bytes one replicate of this cell needs with n points per generation.</param>
    public static int ReplicatesPerBatch(ComputeDevice device, Func<long, long> bytesForN, long n, long budgetBytes, int seeds, string cell)
    {
        var perReplicate = bytesForN(n);
        var usable = Usable(device);
        if (perReplicate > usable)
        {
            long lo = 0, hi = n;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (bytesForN(mid) <= usable) lo = mid;
                else hi = mid - 1;
            }
            var where = device.IsCpu ? "this machine" : device.Accelerator.Name;
            throw new InvalidParameterException(ParameterProblem.Unavailable, Samples, n.ToString(CultureInfo.InvariantCulture),
                lo >= 1 ? (ParameterText)$"at most {lo} with these settings" : $"fewer {Param(Iterations)} or a lower dimension",
                $"cell {cell} needs an estimated {perReplicate / 1e9:F1} GB for a single seed, more than {where} can give ({usable / 1e9:F1} GB usable)",
                subject: cell,
                advice: lo >= 1 ? (ParameterText)$"the largest {Param(Samples)} that fits with these settings is {lo}" : $"lower {Param(Iterations)} or the dimension");
        }
        return (int)Math.Clamp(budgetBytes / Math.Max(1, perReplicate), 1, seeds);
    }
}
