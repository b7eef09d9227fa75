using System.Globalization;
using Collapse.Kernels.Accelerators;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse devices</c>: every accelerator ILGPU sees, refused OpenCL devices with the reason.</summary>
static class DevicesCommand
{
    public static Command Build()
    {
        var command = new Command("devices", "List the accelerators ILGPU can see (CUDA, OpenCL, CPU), and why any is refused");
        command.SetAction(_ =>
        {
            var devices = AcceleratorCatalog.List();
            System.Console.WriteLine($"{"accelerator",-12} {"name",-48} {"memory",10} {"warp",5} {"SMs/cores",9}  status");
            foreach (var d in devices)
            {
                var id = d.Index >= 0 ? $"{Name(d.Kind)}:{d.Index}" : Name(d.Kind);
                // The CPU accelerator reports an effectively unlimited size: it uses host memory.
                var memory = d.Kind == AcceleratorKind.Cpu ? "host" : d.MemoryBytes > 0 ? (d.MemoryBytes / (1024.0 * 1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture) + " GiB" : "-";
                var status = d.Usable ? "usable" : $"refused: {d.RefusedBecause}";
                System.Console.WriteLine($"{id,-12} {Truncate(d.Name, 48),-48} {memory,10} {d.WarpSize,5} {d.Multiprocessors,9}  {status}");
                if (d.OpenCl is { } facts) System.Console.WriteLine($"{"",-12} {facts}");
            }
            if (!devices.Any(d => d.Kind == AcceleratorKind.Cuda))
                System.Console.WriteLine("no CUDA device found (ILGPU loads the driver as libcuda.so)");
            if (AcceleratorCatalog.OpenClRuntimeProblem() is string problem)
                System.Console.WriteLine($"no OpenCL device listed: {problem}");
            else if (!devices.Any(d => d.Kind == AcceleratorKind.OpenCL))
                System.Console.WriteLine("no OpenCL device found (the OpenCL runtime lists none)");
            return 0;
        });
        return command;
    }

    static string Name(AcceleratorKind kind) => kind switch
    {
        AcceleratorKind.Cuda => "cuda",
        AcceleratorKind.OpenCL => "opencl",
        _ => "cpu",
    };

    static string Truncate(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";
}
