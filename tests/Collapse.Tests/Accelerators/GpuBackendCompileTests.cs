using System.Reflection;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Gaussian;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Collapse.Tests.Accelerators;

/// <summary>
/// Every kernel compiles for the GPU backends (PTX for an H100-class sm_90, OpenCL C 2.0), so a
/// kernel that only the CPU accelerator can run fails here, on a machine without a GPU.
/// </summary>
public class GpuBackendCompileTests
{
    public static TheoryData<string> Kernels() => new(KernelMethods().Select(m => $"{m.DeclaringType!.Name}.{m.Name}"));

    static IEnumerable<MethodInfo> KernelMethods()
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        foreach (var type in typeof(RandomKernels).Assembly.GetTypes())
            foreach (var method in type.GetMethods(flags))
                if (method.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Index1D)
                    && method.DeclaringType == type)
                    yield return method;
    }

    /// <summary>Explicitly grouped kernels (shared memory, barriers): the GPU-only variants.</summary>
    public static TheoryData<string> GroupedKernels() => new(["KdeScoreKernels.AccumulateTiled"]);

    static MethodInfo FindGrouped(string name)
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var (type, method) = (name[..name.IndexOf('.')], name[(name.IndexOf('.') + 1)..]);
        return typeof(RandomKernels).Assembly.GetTypes().Single(t => t.Name == type).GetMethod(method, flags)!;
    }

    [Theory]
    [MemberData(nameof(GroupedKernels))]
    public void Grouped_kernel_compiles_to_ptx_and_opencl_c(string kernel)
    {
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        using (var ptx = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!))
        {
            var compiled = (PTXCompiledKernel)ptx.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(FindGrouped(kernel)), default);
            Assert.Contains("bar.sync", compiled.PTXAssembly);
            Assert.Contains(".shared", compiled.PTXAssembly);
        }
        var capabilities = new CLCapabilityContext(true, true, true, true, true);
        using var cl = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        var source = ((CLCompiledKernel)cl.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(FindGrouped(kernel)), default)).Source;
        Assert.Contains("barrier", source);
    }

    static MethodInfo Find(string name) => KernelMethods().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_ptx(string kernel)
    {
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(Find(kernel)), default);
        Assert.Contains(".entry", compiled.PTXAssembly);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_opencl_c(string kernel)
    {
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        var capabilities = new CLCapabilityContext(true, true, true, true, true);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        var compiled = (CLCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(Find(kernel)), default);
        Assert.Contains("kernel", compiled.Source);
    }
}
