using System.Diagnostics.CodeAnalysis;
using Collapse.Kernels.Validation;

namespace Collapse.Kernels.Accelerators;

/// <summary>Which accelerator family a user asked for.</summary>
public enum AcceleratorKind { Auto, Cpu, Cuda, OpenCL }

/// <summary>
/// A parsed <c>--accelerator</c> value: <c>auto|cpu|cuda|opencl</c>, optionally <c>:index</c>
/// (the index counts devices of that kind as <c>collapse devices</c> lists them).
/// </summary>
public readonly record struct AcceleratorSpec(AcceleratorKind Kind, int? Index)
{
    public const string ValidForms = "auto, cpu, cuda, opencl, or one of them with :index (e.g. cuda:1)";

    public static AcceleratorSpec Auto => new(AcceleratorKind.Auto, null);

    /// <summary>The engine's name for the parameter an accelerator is chosen by.</summary>
    public const string Parameter = "Accelerator";

    public static AcceleratorSpec Parse(string text)
    {
        if (!TryParse(text, out var spec, out var error)) throw error;
        return spec;
    }

    public static bool TryParse(string? text, out AcceleratorSpec spec, [NotNullWhen(false)] out InvalidParameterException? error)
    {
        spec = Auto;
        error = null;
        var raw = (text ?? "").Trim();
        var parts = raw.Split(':');
        AcceleratorKind kind;
        switch (parts[0].ToLowerInvariant())
        {
            case "auto": kind = AcceleratorKind.Auto; break;
            case "cpu": kind = AcceleratorKind.Cpu; break;
            case "cuda": kind = AcceleratorKind.Cuda; break;
            case "opencl": case "cl": kind = AcceleratorKind.OpenCL; break;
            default:
                error = InvalidParameterException.BadValue(Parameter, raw, $"expected {ValidForms}");
                return false;
        }
        int? index = null;
        if (parts.Length == 2)
        {
            if (kind == AcceleratorKind.Auto || !int.TryParse(parts[1], out var i) || i < 0)
            {
                error = InvalidParameterException.BadValue(Parameter, raw, $"the index must be a non-negative integer after cpu, cuda or opencl ({ValidForms})");
                return false;
            }
            index = i;
        }
        else if (parts.Length > 2)
        {
            error = InvalidParameterException.BadValue(Parameter, raw, $"expected {ValidForms}");
            return false;
        }
        spec = new AcceleratorSpec(kind, index);
        return true;
    }

    public override string ToString() =>
        (Kind switch { AcceleratorKind.Cpu => "cpu", AcceleratorKind.Cuda => "cuda", AcceleratorKind.OpenCL => "opencl", _ => "auto" })
        + (Index is int i ? $":{i}" : "");
}
