using Collapse.Performance.Workloads;

namespace Collapse.Performance.Check;

/// <summary>One kernel perf-check times, at one fixed size chosen to take a few milliseconds on a 2-core CPU.</summary>
public sealed record CheckedKernel(string Name, string Size, Func<Accelerator, IWorkload> Create);

/// <summary>
/// The fixed subset perf-check times: each kernel family's hot kernels on the path the CPU runs
/// (SIMD C#), at mid paper sizes. Left to the benchmarks, because on a busy 2-core machine their
/// CPU time moved too much to hold a 1.5× line without false alarms: whole scenario iterations (a
/// chain of short phases, each waiting for every core: 2–3× when another process took a core) and
/// kernels on ILGPU's CPU accelerator (KDE sampling: its 32 threads spin at each launch's end
/// while the scheduler runs someone else, ±30% between processes). perf-check compares a workload
/// with the reference commit's of the same name and size; one whose size changed is reported, not
/// compared, until the reference has it too.
/// </summary>
public static class PerfCheckKernels
{
    public static readonly IReadOnlyList<CheckedKernel> All =
    [
        new("random.normals", "100 replicates × 31,600", a => new NormalsWorkload(a, KernelPath.Auto, 31_600, 100)),
        new("gaussian.moments", "d=31, n=1000, R=100", a => new GaussianMomentsWorkload(a, KernelPath.Auto, 31, 1000, 100)),
        new("gaussian.sample", "d=31, n=1000, R=100", a => new GaussianSampleWorkload(a, KernelPath.Auto, 31, 1000, 100)),
        new("gaussian.factorize", "d=100, R=100", a => new GaussianFactorizeWorkload(a, KernelPath.Auto, 100, 100)),
        new("gaussian.sample-fit", "d=100, n=1000, R=20", a => new GaussianSampleFitWorkload(a, KernelPath.Auto, 100, 1000, 20)),
        new("kde.score", "d=2, 500 test × 1000 fitted, R=10", a => new KdeScoreWorkload(a, KernelPath.Auto, 2, 500, 1000, 10, 0.5)),
        new("regression.fit", "d=32, n=316, R=100", a => new RegressionFitWorkload(a, KernelPath.Auto, 32, 316, 100)),
    ];

    public static CheckedKernel? Find(string name) => All.FirstOrDefault(k => k.Name == name);

    /// <summary>A comma-separated list of kernel names, each checked to exist.</summary>
    public static IReadOnlyList<string> ParseList(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in names)
            if (Find(name) is null)
                throw new ArgumentException($"--kernels: unknown kernel '{name}': expected some of {string.Join(", ", All.Select(k => k.Name))}");
        return names.Length > 0 ? names : throw new ArgumentException("--kernels: name at least one kernel");
    }
}
