using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;
using ILGPU.Util;

namespace Collapse.Kernels.Accelerators;

/// <summary>
/// Fused multiply-add for kernel code, fused on every backend. ILGPU 1.5.3 compiles
/// <c>MathF.FusedMultiplyAdd</c> (an internal call of the runtime) to a call to an external
/// function that nothing defines (PTX <c>.extern .func</c>, an undeclared OpenCL C function), so
/// the module fails to load. The normals depend on the multiply-add staying fused (the CPU's SIMD
/// path and the kernels give the same bits), so kernels call <see cref="Fma(float, float, float)"/>:
/// on the CPU (and ILGPU's CPU accelerator) it is the runtime's fused multiply-add; on the GPU
/// backends an intrinsic emits the single-rounding instruction, PTX <c>fma.rn</c> and OpenCL C
/// <c>fma()</c>. (Registering the intrinsic on <c>MathF.FusedMultiplyAdd</c> itself is not enough:
/// ILGPU does not map calls to runtime internal calls.)
/// </summary>
public static class KernelMath
{
    /// <summary>a·b + c with one rounding.</summary>
    [IntrinsicImplementation, MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    /// <summary>a·b + c with one rounding.</summary>
    [IntrinsicImplementation, MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Fma(double a, double b, double c) => Math.FusedMultiplyAdd(a, b, c);

    /// <summary>Registers the GPU backends' code for <see cref="Fma(float, float, float)"/> and its double overload.</summary>
    public static void Register(IntrinsicImplementationManager manager)
    {
        foreach (var type in new[] { typeof(float), typeof(double) })
        {
            var method = typeof(KernelMath).GetMethod(nameof(Fma), [type, type, type])!;
            manager.RegisterMethod(method, new PTXIntrinsic(typeof(KernelMath), nameof(GeneratePtxFma), IntrinsicImplementationMode.GenerateCode));
            manager.RegisterMethod(method, new CLIntrinsic(typeof(KernelMath), nameof(GenerateOpenClFma), IntrinsicImplementationMode.GenerateCode));
        }
    }

    /// <summary>target = fma.rn.f32|f64 a, b, c: one rounding, to nearest even.</summary>
    public static void GeneratePtxFma(PTXBackend backend, PTXCodeGenerator codeGenerator, Value value)
    {
        var call = value.AsNotNullCast<MethodCall>();
        var a = codeGenerator.LoadPrimitive(call[0]);
        var b = codeGenerator.LoadPrimitive(call[1]);
        var c = codeGenerator.LoadPrimitive(call[2]);
        var target = codeGenerator.AllocateHardware(value);
        using var command = codeGenerator.BeginCommand(call.BasicValueType == BasicValueType.Float32 ? "fma.rn.f32" : "fma.rn.f64");
        command.AppendArgument(target);
        command.AppendArgument(a);
        command.AppendArgument(b);
        command.AppendArgument(c);
    }

    /// <summary>target = fma(a, b, c): OpenCL C's fma rounds once, for float and double.</summary>
    public static void GenerateOpenClFma(CLBackend backend, CLCodeGenerator codeGenerator, Value value)
    {
        var call = value.AsNotNullCast<MethodCall>();
        var a = codeGenerator.Load(call[0]);
        var b = codeGenerator.Load(call[1]);
        var c = codeGenerator.Load(call[2]);
        var target = codeGenerator.Allocate(value);
        using var statement = codeGenerator.BeginStatement(target);
        statement.AppendCommand("fma");
        statement.BeginArguments();
        statement.AppendArgument(a);
        statement.AppendArgument(b);
        statement.AppendArgument(c);
        statement.EndArguments();
    }
}
