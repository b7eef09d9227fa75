using ILGPU;
using ILGPU.IR;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using System.Runtime.InteropServices;
using Collapse.Kernels.Validation;

namespace Collapse.Kernels.Accelerators;

/// <summary>One accelerator as <c>collapse devices</c> lists it; refused devices carry the reason, OpenCL devices their <see cref="OpenClFacts"/>.</summary>
public sealed record DeviceListing(
    AcceleratorKind Kind, int Index, string Name, long MemoryBytes, int WarpSize,
    int Multiprocessors, bool Usable, string? RefusedBecause, OpenClFacts? OpenCl = null);

/// <summary>
/// What decides whether an OpenCL device can run these kernels: its device version (from which
/// ILGPU picks the <c>-cl-std</c> it compiles for), the OpenCL C version it reports (shown, not
/// used: OpenCL 3.0 drivers may answer 1.2 there), and its float64 and generic-address-space support.
/// </summary>
public sealed record OpenClFacts(string DeviceVersion, string OpenClC, string CompiledFor, bool Float64, bool GenericAddressSpace)
{
    public override string ToString() =>
        $"device OpenCL {DeviceVersion}, OpenCL C {OpenClC}, compiled for {CompiledFor}, float64 {(Float64 ? "yes" : "no")}, generic address space {(GenericAddressSpace ? "yes" : "no")}";
}

/// <summary>Raised when the accelerator asked for is absent or unusable. Never a silent fallback.</summary>
public sealed class AcceleratorUnavailableException(AcceleratorSpec spec, string parameter, ParameterText valid, ParameterText text, ParameterText? advice = null)
    : InvalidParameterException(ParameterProblem.Unavailable, parameter, spec.ToString(), valid, text, advice: advice);

/// <summary>
/// Discovers CUDA, OpenCL and CPU accelerators through ILGPU and opens the one a spec names.
/// OpenCL devices are listed even when ILGPU cannot use them, with the reason.
/// </summary>
public static class AcceleratorCatalog
{
    /// <summary>
    /// Why ILGPU (and these kernels, which use float64) cannot use an OpenCL device; null if it can.
    /// ILGPU's own rule (its default OpenCL device filter): the OpenCL C it compiles for, which
    /// follows the device version (3.0 → CL3.0, 2.x → CL2.0, else the reported OpenCL C version), must
    /// be at least 2.0, and the device must have a generic address space (every 2.x device; a 3.0
    /// device when it reports CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT).
    /// </summary>
    public static string? OpenClRefusal(CLDevice device) =>
        OpenClRefusal(device.DeviceVersion.Major, device.DeviceVersion.Minor, device.CLStdVersion.Major, device.CLStdVersion.Minor,
            device.Capabilities.GenericAddressSpace, device.Capabilities.Float64);

    /// <summary><see cref="OpenClRefusal(CLDevice)"/> on the facts themselves (for tests).</summary>
    public static string? OpenClRefusal(int deviceMajor, int deviceMinor, int compiledForMajor, int compiledForMinor, bool genericAddressSpace, bool float64)
    {
        var reasons = new List<string>();
        if (compiledForMajor < 2)
            reasons.Add($"device OpenCL {deviceMajor}.{deviceMinor}, so OpenCL C {compiledForMajor}.{compiledForMinor} < 2.0 (ILGPU needs 2.0)");
        if (!genericAddressSpace)
            reasons.Add(deviceMajor >= 3 ? "an OpenCL 3.0 device without the generic address space (ILGPU requires it)" : "no generic address space (ILGPU requires it)");
        if (!float64)
            reasons.Add("no float64 support (the kernels accumulate in double)");
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    static OpenClFacts Facts(CLDevice device) => new(device.DeviceVersion.ToString(), $"{device.CVersion.Major}.{device.CVersion.Minor}",
        $"{device.CLStdVersion.Major}.{device.CLStdVersion.Minor}", device.Capabilities.Float64, device.Capabilities.GenericAddressSpace);

    /// <summary>
    /// ILGPU's default CPU device simulates a single multiprocessor; give it one per core so
    /// grid-stride kernels use the whole machine.
    /// </summary>
    static CPUDevice CpuDevice => new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4,
        numMultiprocessors: Environment.ProcessorCount);

    /// <summary>
    /// ILGPU's CPU accelerator shaped like an NVIDIA GPU's multiprocessor (warps of 32, up to
    /// <paramref name="warpsPerGroup"/>·32 threads a group, one multiprocessor), so tests run the
    /// grouped kernels' shared memory and barriers with the group sizes a GPU uses, not the
    /// production CPU device's 4-wide warps.
    /// </summary>
    internal static ComputeDevice OpenGpuShapedCpu(int warpsPerGroup = 32)
    {
        var device = new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: warpsPerGroup, numMultiprocessors: 1);
        var context = Context.Create(builder => CompilerSettings(builder.CPU(device)));
        try
        {
            return new ComputeDevice(context, context.GetCPUDevices()[0].CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>A context with every usable accelerator: CPU, CUDA and capable OpenCL devices.</summary>
    public static Context CreateContext() =>
        Context.Create(builder => CompilerSettings(builder
            .CPU(CpuDevice)
            .Cuda()
            .OpenCL(d => OpenClRefusal(d) is null)));

    /// <summary>
    /// How kernels are compiled: IEEE math, ILGPU.Algorithms (which supplies the float64 log/sqrt
    /// the GPU backends lack), and fused multiply-adds that stay fused on every backend
    /// (<see cref="KernelMath"/>). Tests compile for PTX and OpenCL with the same settings.
    /// </summary>
    internal static Context.Builder CompilerSettings(Context.Builder builder)
    {
        builder.Math(MathMode.Default).EnableAlgorithms();
        KernelMath.Register(builder.GetIntrinsicManager());
        return builder;
    }

    /// <summary>Every accelerator ILGPU can see, the refused OpenCL ones included.</summary>
    public static IReadOnlyList<DeviceListing> List()
    {
        var list = new List<DeviceListing>();
        using (var context = CreateContext())
        {
            foreach (var kind in new[] { AcceleratorKind.Cuda, AcceleratorKind.OpenCL, AcceleratorKind.Cpu })
            {
                var devices = DevicesOf(context, kind);
                for (var i = 0; i < devices.Count; i++)
                    list.Add(Describe(kind, i, devices[i], null));
            }
        }
        foreach (var refused in RefusedOpenClDevices())
            list.Add(refused);
        return list;
    }

    static IEnumerable<DeviceListing> RefusedOpenClDevices() => ScanOpenCl().Refused;

    /// <summary>
    /// Why no OpenCL device could even be enumerated, or null when the runtime loaded. ILGPU loads
    /// the ICD loader as <c>libOpenCL.so</c>; Debian's <c>ocl-icd-libopencl1</c> ships only
    /// <c>libOpenCL.so.1</c> (the unversioned name comes with <c>ocl-icd-opencl-dev</c>).
    /// </summary>
    public static string? OpenClRuntimeProblem()
    {
        if (NativeLibrary.TryLoad("libOpenCL.so", out var handle))
        {
            NativeLibrary.Free(handle);
            return null;
        }
        if (NativeLibrary.TryLoad("libOpenCL.so.1", out handle))
        {
            NativeLibrary.Free(handle);
            return "an OpenCL runtime is installed as libOpenCL.so.1, but ILGPU loads libOpenCL.so: install ocl-icd-opencl-dev, or put a libOpenCL.so link to it on LD_LIBRARY_PATH";
        }
        return "no OpenCL ICD loader (libOpenCL.so) is installed";
    }

    static (List<DeviceListing> Refused, string? Problem) ScanOpenCl()
    {
        var refused = new List<DeviceListing>();
        if (OpenClRuntimeProblem() is string problem) return (refused, problem);
        try
        {
            foreach (var device in CLDevice.GetDevices(_ => true))
                if (device is CLDevice cl && OpenClRefusal(cl) is string reason)
                    refused.Add(Describe(AcceleratorKind.OpenCL, -1, cl, reason));
            return (refused, null);
        }
        catch (Exception e)
        {
            return (refused, $"the OpenCL runtime failed to list devices ({e.GetBaseException().Message})");
        }
    }

    static DeviceListing Describe(AcceleratorKind kind, int index, Device device, string? refusal)
    {
        var cl = device as CLDevice;
        var name = cl is not null ? $"{device.Name} ({cl.PlatformName})" : device.Name;
        return new DeviceListing(kind, index, name, device.MemorySize, device.WarpSize,
            device.NumMultiprocessors, refusal is null, refusal, cl is null ? null : Facts(cl));
    }

    static IReadOnlyList<Device> DevicesOf(Context context, AcceleratorKind kind)
    {
        var list = new List<Device>();
        switch (kind)
        {
            case AcceleratorKind.Cuda: foreach (var d in context.GetCudaDevices()) list.Add(d); break;
            case AcceleratorKind.OpenCL: foreach (var d in context.GetCLDevices()) list.Add(d); break;
            case AcceleratorKind.Cpu: foreach (var d in context.GetCPUDevices()) list.Add(d); break;
        }
        return list;
    }

    /// <summary>
    /// Opens the accelerator the spec names. <c>auto</c> prefers CUDA, then a capable OpenCL device,
    /// then the CPU. A named kind or index that is absent throws <see cref="AcceleratorUnavailableException"/>
    /// naming <paramref name="parameter"/>, the parameter the spec came from.
    /// </summary>
    public static ComputeDevice Open(AcceleratorSpec spec, string parameter = AcceleratorSpec.Parameter)
    {
        var context = CreateContext();
        try
        {
            Device device;
            if (spec.Kind == AcceleratorKind.Auto)
            {
                device = DevicesOf(context, AcceleratorKind.Cuda).FirstOrDefault()
                         ?? DevicesOf(context, AcceleratorKind.OpenCL).FirstOrDefault()
                         ?? DevicesOf(context, AcceleratorKind.Cpu)[0];
            }
            else
            {
                var devices = DevicesOf(context, spec.Kind);
                var index = spec.Index ?? 0;
                var accelerator = InvalidParameterException.Param(parameter);
                // A list of devices takes no auto: the CPU is the one kind always there.
                var fallback = parameter == AcceleratorSpec.Parameter ? "auto|cpu" : "cpu";
                if (devices.Count == 0)
                    throw new AcceleratorUnavailableException(spec, parameter, $"auto, cpu, or a kind of device that is present",
                        $"{accelerator} {spec}: no usable {KindName(spec.Kind)} device is present{(spec.Kind == AcceleratorKind.OpenCL ? RefusedSummary() : "")}",
                        $"use {accelerator} {fallback}");
                if (index >= devices.Count)
                    throw new AcceleratorUnavailableException(spec, parameter, $"indices 0..{devices.Count - 1}",
                        $"{accelerator} {spec}: there are only {devices.Count} {spec.Kind} device(s) (valid indices 0..{devices.Count - 1})");
                device = devices[index];
            }
            return new ComputeDevice(context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    static string RefusedSummary()
    {
        var (refused, problem) = ScanOpenCl();
        if (problem is not null) return $" ({problem})";
        return refused.Count == 0 ? " (the OpenCL runtime lists no device)"
            : " (refused: " + string.Join("; ", refused.Select(r => $"{r.Name}: {r.RefusedBecause}")) + ")";
    }

    public static string KindName(AcceleratorKind kind) => kind switch
    {
        AcceleratorKind.Cuda => "CUDA",
        AcceleratorKind.OpenCL => "OpenCL",
        AcceleratorKind.Cpu => "CPU",
        _ => "auto",
    };
}

/// <summary>An open accelerator and the context that owns it.</summary>
public sealed class ComputeDevice(Context context, Accelerator accelerator) : IDisposable
{
    public Context Context { get; } = context;
    public Accelerator Accelerator { get; } = accelerator;
    public bool IsCpu => Accelerator.AcceleratorType == AcceleratorType.CPU;
    public string Description => $"{Accelerator.AcceleratorType} {Accelerator.Name}";

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
