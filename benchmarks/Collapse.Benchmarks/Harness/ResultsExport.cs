using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using Collapse.Engine.Results;
using Collapse.Performance.Targets;

namespace Collapse.Benchmarks.Harness;

/// <summary>
/// Writes each benchmark class's results as <c>results/benchmarks/&lt;machine&gt;/&lt;Class&gt;.md</c>
/// (GitHub markdown, headed by the class's question and how it was run) and <c>&lt;Class&gt;.json</c>
/// (BenchmarkDotNet's full JSON, every measurement).
/// </summary>
static partial class ResultsExport
{
    /// <summary>The machine's name: the GPU's when a GPU target is present, else the CPU model.</summary>
    public static string MachineName(IEnumerable<string> targets)
    {
        foreach (var name in targets)
        {
            var target = BenchmarkTarget.Parse(name);
            if (target.IsCpu) continue;
            using var device = target.Open();
            return device.Accelerator.Name;
        }
        return RunManifest.CpuModel();
    }

    /// <summary>A short slug of a CPU or GPU name: "AMD EPYC" → amd-epyc, "NVIDIA H100 80GB HBM3" → nvidia-h100-80gb.</summary>
    public static string Slug(string name)
    {
        var words = Word().Matches(name.ToLowerInvariant().Replace("(r)", "").Replace("(tm)", ""))
            .Select(m => m.Value)
            .Where(w => w is not ("cpu" or "processor" or "with" or "graphics") && !Frequency().IsMatch(w) && !w.EndsWith("-core", StringComparison.Ordinal))
            .Take(3);
        var slug = string.Join('-', words);
        return slug.Length > 0 ? slug : "unknown";
    }

    [GeneratedRegex(@"[a-z0-9]+(-core)?")]
    private static partial Regex Word();

    [GeneratedRegex(@"^\d+(\.\d+)?[gm]hz$")]
    private static partial Regex Frequency();

    /// <summary>results/benchmarks under the repository root (the folder holding Kernels.sln), else under the current folder.</summary>
    public static string DefaultDirectory(string machineSlug)
    {
        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Kernels.sln")))
                return Path.Combine(folder.FullName, "results", "benchmarks", machineSlug);
        return Path.Combine("results", "benchmarks", machineSlug);
    }

    /// <summary>The 1-minute load average when the program started (Linux), to say how busy the machine was.</summary>
    public static string? LoadAtStart { get; } = LoadAverage();

    static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static IEnumerable<string> Write(Summary summary, string directory, string machine, string commandLine)
    {
        var type = summary.BenchmarksCases.Select(c => c.Descriptor.Type).Distinct().SingleOrDefault();
        var name = type?.Name ?? summary.Title;
        Directory.CreateDirectory(directory);

        var markdown = new StringBuilder();
        markdown.AppendLine($"# {name}").AppendLine();
        if (type?.GetCustomAttribute<BenchmarkQuestionAttribute>() is { } question)
            markdown.AppendLine($"**Question:** {question.Text}").AppendLine();
        markdown.AppendLine($"Measured on {machine} ({Environment.ProcessorCount} logical cores) at commit {RunManifest.ToolCommit}, " +
                            $"{DateTime.UtcNow:yyyy-MM-dd}, by:").AppendLine()
            .AppendLine($"    dotnet run -c Release --project benchmarks/Collapse.Benchmarks -- {commandLine}").AppendLine();
        if (LoadAverage() is string load)
            markdown.AppendLine($"Load average when the run started and when this was written: {LoadAtStart ?? "?"} and {load} " +
                                $"(on {Environment.ProcessorCount} cores; other processes share this machine).").AppendLine();
        markdown.AppendLine("`Reference` is the plain float64 reference (one thread, loops written for clarity) and the baseline of " +
                            "`Ratio`; `Kernel` is the suite's kernel on the `Accelerator` (`cpu`: the CPU path, AVX2 C# where it has it; " +
                            "`cpu-ilgpu`: the ILGPU kernels on ILGPU's CPU backend). `Throughput` divides the work of one operation by " +
                            "the mean; `Of limit` compares it with the limit measured in the same process (CPU: 256-bit float64 FMA " +
                            "peak on every core; GPU: device copy bandwidth).").AppendLine();
        var table = new AccumulationLogger();
        MarkdownExporter.GitHub.ExportToLog(summary, table);
        markdown.Append(table.GetLog());
        var markdownPath = Path.Combine(directory, name + ".md");
        File.WriteAllText(markdownPath, markdown.ToString());

        var json = new AccumulationLogger();
        JsonExporter.Full.ExportToLog(summary, json);
        var jsonPath = Path.Combine(directory, name + ".json");
        File.WriteAllText(jsonPath, json.GetLog());
        return [markdownPath, jsonPath];
    }
}
