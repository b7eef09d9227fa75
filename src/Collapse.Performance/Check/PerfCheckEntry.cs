using Collapse.Performance.Workloads;

namespace Collapse.Performance.Check;

/// <summary>
/// How perf-check drives a build of this project that it loads beside another (see
/// <see cref="LoadedBuild"/>): only base-library types cross, so a later commit's check can time
/// this commit's workloads through reflection however the project's own types change. Keep the
/// names and signatures; add workloads to <see cref="PerfCheckKernels"/>.
/// </summary>
public static class PerfCheckEntry
{
    /// <summary>Each workload as { name, size }.</summary>
    public static string[][] Workloads() => [.. PerfCheckKernels.All.Select(k => new[] { k.Name, k.Size })];

    /// <summary>
    /// Sets up the named workloads on the CPU path, puts each one's synchronized run in
    /// <paramref name="runs"/> (same order), and returns what frees them all.
    /// </summary>
    public static IDisposable Open(string[] names, Action[] runs)
    {
        var device = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        var opened = new List<IWorkload>();
        try
        {
            for (var i = 0; i < names.Length; i++)
            {
                var kernel = PerfCheckKernels.Find(names[i]) ?? throw new ArgumentException($"no perf-check workload '{names[i]}'");
                var workload = kernel.Create(device.Accelerator);
                opened.Add(workload);
                runs[i] = workload.Run;
            }
        }
        catch
        {
            new Owner(device, opened).Dispose();
            throw;
        }
        return new Owner(device, opened);
    }

    sealed class Owner(ComputeDevice device, List<IWorkload> workloads) : IDisposable
    {
        public void Dispose()
        {
            foreach (var w in workloads) w.Dispose();
            device.Dispose();
        }
    }
}
