namespace Collapse.Performance.Targets;

/// <summary>
/// Where a workload runs: an accelerator and the kernel path the suite takes there. <c>cpu</c> is
/// what the suite runs on a CPU (AVX2 C# where it has it); <c>cpu-ilgpu</c> forces the ILGPU
/// kernels onto ILGPU's CPU backend, to compare with the GPU code path; <c>cuda</c> and
/// <c>opencl</c> run the ILGPU kernels on the first such device.
/// </summary>
public sealed record BenchmarkTarget(string Name, AcceleratorSpec Spec, KernelPath Path)
{
    public const string Cpu = "cpu";
    public const string CpuIlgpu = "cpu-ilgpu";
    public const string Cuda = "cuda";
    public const string OpenCl = "opencl";

    public static readonly IReadOnlyList<string> Names = [Cpu, CpuIlgpu, Cuda, OpenCl];

    /// <summary>What a benchmark run covers unless told otherwise: every accelerator kind, each on its own path.</summary>
    public static readonly IReadOnlyList<string> Default = [Cpu, Cuda, OpenCl];

    public static BenchmarkTarget Parse(string name) => name switch
    {
        Cpu => new(Cpu, AcceleratorSpec.Parse("cpu"), KernelPath.Auto),
        CpuIlgpu => new(CpuIlgpu, AcceleratorSpec.Parse("cpu"), KernelPath.Ilgpu),
        Cuda => new(Cuda, AcceleratorSpec.Parse("cuda"), KernelPath.Auto),
        OpenCl => new(OpenCl, AcceleratorSpec.Parse("opencl"), KernelPath.Auto),
        _ => throw new ArgumentException($"--targets: unknown target '{name}': expected one of {string.Join(", ", Names)}"),
    };

    public bool IsCpu => Spec.Kind == AcceleratorKind.Cpu;

    public ComputeDevice Open() => AcceleratorCatalog.Open(Spec);

    /// <summary>
    /// The targets among <paramref name="names"/> that can be opened here. Each absent one is
    /// written to <paramref name="log"/> with the reason, and skipped rather than failed.
    /// </summary>
    public static IReadOnlyList<string> Available(IEnumerable<string> names, TextWriter log)
    {
        var available = new List<string>();
        foreach (var name in names)
        {
            var target = Parse(name);
            try
            {
                using var device = target.Open();
                available.Add(name);
            }
            catch (AcceleratorUnavailableException e)
            {
                log.WriteLine($"// skipped accelerator {name}: {e.Message}");
            }
        }
        return available;
    }
}
