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

    public static AcceleratorSpec Parse(string text)
    {
        if (!TryParse(text, out var spec, out var error)) throw new ArgumentException(error);
        return spec;
    }

    public static bool TryParse(string? text, out AcceleratorSpec spec, out string error)
    {
        spec = Auto;
        error = "";
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
                error = $"--accelerator '{raw}' is not valid: expected {ValidForms}";
                return false;
        }
        int? index = null;
        if (parts.Length == 2)
        {
            if (kind == AcceleratorKind.Auto || !int.TryParse(parts[1], out var i) || i < 0)
            {
                error = $"--accelerator '{raw}' is not valid: the index must be a non-negative integer after cpu, cuda or opencl ({ValidForms})";
                return false;
            }
            index = i;
        }
        else if (parts.Length > 2)
        {
            error = $"--accelerator '{raw}' is not valid: expected {ValidForms}";
            return false;
        }
        spec = new AcceleratorSpec(kind, index);
        return true;
    }

    public override string ToString() =>
        (Kind switch { AcceleratorKind.Cpu => "cpu", AcceleratorKind.Cuda => "cuda", AcceleratorKind.OpenCL => "opencl", _ => "auto" })
        + (Index is int i ? $":{i}" : "");
}
