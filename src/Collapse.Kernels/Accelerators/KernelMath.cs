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
/// Math for kernel code that every backend compiles to fast, self-contained code. Fused multiply-add, fused on every backend. ILGPU 1.5.3 compiles
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

    /// <summary>
    /// e^x in float64. On the CPU (the host and ILGPU's CPU accelerator) the runtime's <c>Math.Exp</c>,
    /// so CPU results are those of every earlier release; on the GPU backends <see cref="Float64Math.Exp"/>,
    /// plain multiply-adds, instead of ILGPU's software CORDIC.
    /// </summary>
    [IntrinsicImplementation, MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x) => Math.Exp(x);

    /// <summary>ln x in float64: <c>Math.Log</c> on the CPU, <see cref="Float64Math.Log"/> on the GPU backends (see <see cref="Exp"/>).</summary>
    [IntrinsicImplementation, MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x) => Math.Log(x);

    /// <summary>Registers the GPU backends' code for <see cref="Fma(float, float, float)"/>, its double overload, <see cref="Exp"/> and <see cref="Log"/>.</summary>
    public static void Register(IntrinsicImplementationManager manager)
    {
        foreach (var name in new[] { nameof(Exp), nameof(Log) })
        {
            var method = typeof(KernelMath).GetMethod(name, [typeof(double)])!;
            manager.RegisterMethod(method, new PTXIntrinsic(typeof(Float64Math), name, IntrinsicImplementationMode.Redirect));
            manager.RegisterMethod(method, new CLIntrinsic(typeof(Float64Math), name, IntrinsicImplementationMode.Redirect));
        }
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
