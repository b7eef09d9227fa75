using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;

namespace Collapse.Tests;

/// <summary>
/// The accelerators kernel tests run on: the CPU always, CUDA and OpenCL when present, so the
/// test program run on a GPU machine checks those kernels too. Devices are opened once and shared.
/// </summary>
public static class TestDevices
{
    static readonly Lazy<IReadOnlyDictionary<string, ComputeDevice>> Devices = new(() =>
    {
        var opened = new Dictionary<string, ComputeDevice> { ["cpu"] = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu")) };
        foreach (var kind in new[] { "cuda", "opencl" })
        {
            try
            {
                opened[kind] = AcceleratorCatalog.Open(AcceleratorSpec.Parse(kind));
            }
            catch (AcceleratorUnavailableException)
            {
                // Not present on this machine: its tests are not generated.
            }
        }
        return opened;
    });

    static readonly Dictionary<(string, KernelPath), GaussianKernels> Kernels = [];

    public static ComputeDevice Get(string name) => Devices.Value[name];

    /// <summary>Accelerator names present here.</summary>
    public static TheoryData<string> Present() => new(Devices.Value.Keys);

    /// <summary>Every (accelerator, kernel path) pair that exists: on the CPU both the SIMD and the ILGPU path.</summary>
    public static TheoryData<string, KernelPath> Paths()
    {
        var data = new TheoryData<string, KernelPath>();
        foreach (var (name, path) in PathList()) data.Add(name, path);
        return data;
    }

    public static IEnumerable<(string Device, KernelPath Path)> PathList()
    {
        foreach (var name in Devices.Value.Keys)
        {
            yield return (name, KernelPath.Ilgpu);
            if (name == "cpu") yield return (name, KernelPath.Auto);
        }
    }

    public static GaussianKernels GaussianKernels(string name, KernelPath path)
    {
        lock (Kernels)
        {
            if (!Kernels.TryGetValue((name, path), out var kernels))
                Kernels[(name, path)] = kernels = new GaussianKernels(Get(name).Accelerator, path);
            return kernels;
        }
    }
}
