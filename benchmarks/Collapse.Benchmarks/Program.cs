using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Collapse.Performance.Targets;

namespace Collapse.Benchmarks;

/// <summary>
/// BenchmarkDotNet's switcher (pick classes by name or with --filter), plus the harness's options:
/// <c>--targets cpu,cpu-ilgpu,cuda,opencl</c> (the Accelerator values to try; absent ones are
/// skipped with the reason), <c>--machine SLUG</c> and <c>--results DIR</c> (where the markdown and
/// JSON go; default results/benchmarks/&lt;machine&gt;/), <c>--no-results</c>. Every other argument
/// is BenchmarkDotNet's (<c>--job short</c>, <c>--inProcess</c>, ...).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        _ = ResultsExport.LoadAtStart;
        var rest = new List<string>();
        string? machineSlug = null, resultsDirectory = null;
        var saveResults = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--targets" when i + 1 < args.Length:
                    try
                    {
                        AcceleratorParams.Requested = args[++i].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                            .Select(name => BenchmarkTarget.Parse(name).Name).ToList();
                    }
                    catch (ArgumentException e)
                    {
                        Console.Error.WriteLine($"error: {e.Message}");
                        return 2;
                    }
                    break;
                case "--machine" when i + 1 < args.Length: machineSlug = args[++i]; break;
                case "--results" when i + 1 < args.Length: resultsDirectory = args[++i]; break;
                case "--no-results": saveResults = false; break;
                default: rest.Add(args[i]); break;
            }
        }
        if (!rest.Any(a => a.Equals("--inProcess", StringComparison.OrdinalIgnoreCase) || a == "-i") && NoSdk() is string why)
        {
            // BenchmarkDotNet builds a project per benchmark unless told to run in this process.
            Console.WriteLine($"// {why}: running the benchmarks in this process (--inProcess)");
            rest.Add("--inProcess");
        }

        var config = DefaultConfig.Instance.AddColumn(new ThroughputColumn(), new ShareOfLimitColumn(), new LaunchesColumn());
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], config).ToList();
        if (!saveResults || summaries.All(s => s.BenchmarksCases.Length == 0)) return 0;

        var machine = ResultsExport.MachineName(AcceleratorParams.Present());
        var directory = resultsDirectory ?? ResultsExport.DefaultDirectory(machineSlug ?? ResultsExport.Slug(machine));
        foreach (var summary in summaries.Where(s => s.BenchmarksCases.Length > 0))
            foreach (var path in ResultsExport.Write(summary, directory, machine, string.Join(' ', args.Select(ShellQuoted))))
                Console.WriteLine($"// wrote {path}");
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    /// <summary>An argument as a shell would need it typed: quoted when it holds a glob or a space.</summary>
    static string ShellQuoted(string argument) => argument.IndexOfAny(['*', '?', ' ', '[']) >= 0 ? $"'{argument}'" : argument;

    /// <summary>Why BenchmarkDotNet could not build its benchmark projects here (no .NET SDK), or null when it can.</summary>
    static string? NoSdk()
    {
        try
        {
            using var dotnet = Process.Start(new ProcessStartInfo("dotnet", "--list-sdks") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var sdks = dotnet.StandardOutput.ReadToEnd();
            dotnet.WaitForExit();
            return dotnet.ExitCode == 0 && sdks.Trim().Length > 0 ? null : "no .NET SDK found ('dotnet --list-sdks' lists none)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "no 'dotnet' command on PATH";
        }
    }
}
