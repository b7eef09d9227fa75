using System.Reflection;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Collapse.Tests.Accelerators;

/// <summary>
/// Every kernel compiles for the GPU backends (PTX for an H100-class sm_90, OpenCL C 2.0) into
/// self-contained code: the PTX calls no function that nothing defines (the CUDA driver would
/// refuse the module at load), and the OpenCL C builds with a real OpenCL C compiler (clang), so a
/// kernel only the CPU accelerator could run fails here, on a machine without a GPU.
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
    public static TheoryData<string> GroupedKernels() => new([
        "KdeScoreKernels.AccumulateTiled", "FactorKernels.PivotedCholeskyGrouped", "WishartKernels.DrawGrouped",
        "ShapedAttentionKernels.Forward",
    ]);

    static MethodInfo FindGrouped(string name)
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var (type, method) = (name[..name.IndexOf('.')], name[(name.IndexOf('.') + 1)..]);
        return typeof(RandomKernels).Assembly.GetTypes().Single(t => t.Name == type).GetMethod(method, flags)!;
    }

    [Theory]
    [MemberData(nameof(GroupedKernels))]
    public void Grouped_kernel_compiles_to_self_contained_ptx_and_to_opencl_c_that_clang_builds(string kernel)
    {
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(FindGrouped(kernel));
        var ptx = Ptx(entry);
        Assert.Contains("bar.sync", ptx);
        Assert.Contains(".shared", ptx);
        AssertSelfContained(kernel, ptx);
        Assert.DoesNotContain("Hyperbolic", ptx);
        var source = OpenClC(entry);
        Assert.Contains("barrier", source);
        OpenClCompiler.AssertBuilds(kernel, source);
    }

    static MethodInfo Find(string name) => KernelMethods().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);

    static string Ptx(EntryPointDescription entry)
    {
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        return ((PTXCompiledKernel)backend.Compile(entry, default)).PTXAssembly;
    }

    static string OpenClC(EntryPointDescription entry)
    {
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        var capabilities = new CLCapabilityContext(true, true, true, true, true);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        return ((CLCompiledKernel)backend.Compile(entry, default)).Source;
    }

    /// <summary>
    /// A PTX module may declare <c>.extern .func</c> only for what the CUDA driver links itself
    /// (<c>vprintf</c>, the device runtime's malloc/free); anything else is a call to nothing.
    /// </summary>
    static readonly string[] DriverProvided = ["vprintf", "malloc", "free"];

    static void AssertSelfContained(string kernel, string ptx)
    {
        var externs = ptx.Split('\n').Where(l => l.TrimStart().StartsWith(".extern .func", StringComparison.Ordinal))
            .Where(l => !DriverProvided.Any(name => System.Text.RegularExpressions.Regex.IsMatch(l, $@"\b{name}\b"))).ToList();
        Assert.True(externs.Count == 0, $"{kernel}'s PTX calls functions nothing defines:\n{string.Join('\n', externs)}");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_ptx_that_calls_no_undefined_function(string kernel)
    {
        var ptx = Ptx(EntryPointDescription.FromImplicitlyGroupedKernel(Find(kernel)));
        Assert.Contains(".entry", ptx);
        AssertSelfContained(kernel, ptx);
    }

    /// <summary>
    /// ILGPU compiles float64 <c>Math.Exp</c>/<c>Math.Log</c> for PTX to a CORDIC loop in software (its
    /// functions are named after hyperbolic rotations); every kernel must use <see cref="KernelMath.Exp"/>
    /// and <see cref="KernelMath.Log"/>, which the GPU backends redirect to <see cref="Float64Math"/>.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void No_kernel_computes_a_float64_exp_or_log_in_software_on_the_gpu(string kernel)
    {
        var ptx = Ptx(EntryPointDescription.FromImplicitlyGroupedKernel(Find(kernel)));
        Assert.DoesNotContain("Hyperbolic", ptx);
        Assert.DoesNotMatch(@"\.func[^\n]*\b(Exp|Log)_\d+\(", ptx);
    }

    [Fact]
    public void The_tiled_kde_kernel_computes_its_exp_with_multiply_adds()
    {
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(FindGrouped("KdeScoreKernels.AccumulateTiled"));
        var ptx = Ptx(entry);
        Assert.DoesNotContain("Hyperbolic", ptx);
        // Two exps per scored pair, each a degree-13 polynomial: at least 26 float64 fused multiply-adds.
        Assert.True(System.Text.RegularExpressions.Regex.Count(ptx, @"\bfma\.rn\.f64\b") >= 26, "the PTX has fewer fma.rn.f64 than two polynomial exps");
        Assert.DoesNotMatch(@"\bexp\s*\(", OpenClC(entry));
    }

    [Fact]
    public void The_normals_multiply_adds_stay_fused_on_both_gpu_backends()
    {
        // LogUnit has 11 fused multiply-adds and SinCosTurns 6: rounded once each, as on the CPU.
        var entry = EntryPointDescription.FromImplicitlyGroupedKernel(Find("RandomKernels.NormalsKernel"));
        Assert.True(System.Text.RegularExpressions.Regex.Count(Ptx(entry), @"\bfma\.rn\.f32\b") >= 17, "the PTX has fewer fma.rn.f32 than the normals' explicit FMAs");
        Assert.True(System.Text.RegularExpressions.Regex.Count(OpenClC(entry), @"\bfma\s*\(") >= 17, "the OpenCL C has fewer fma() than the normals' explicit FMAs");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Compiles_to_opencl_c_that_clang_builds(string kernel)
    {
        var source = OpenClC(EntryPointDescription.FromImplicitlyGroupedKernel(Find(kernel)));
        Assert.Contains("kernel", source);
        OpenClCompiler.AssertBuilds(kernel, source);
    }
}
