using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Collapse.Engine.Results;

/// <summary>
/// <c>manifest.json</c> beside a run's CSV: what was run (configuration, command line, commit),
/// where (accelerator, device, machine), how long (wall time per setting) and whether it finished.
/// Rewritten atomically after every cell so an interrupted run can be resumed.
/// </summary>
public sealed class RunManifest
{
    public string Tool { get; set; } = "collapse";
    public string Version { get; set; } = ToolVersion;
    public string Commit { get; set; } = ToolCommit;
    public string Command { get; set; } = "";
    /// <summary>gaussian, kde, …: which sweep wrote the directory (merge needs it to read the configuration).</summary>
    public string Experiment { get; set; } = "";
    /// <summary>"K/N" when this directory holds one shard of the grid; null for the whole grid.</summary>
    public string? Shard { get; set; }
    public string Status { get; set; } = "running";
    public JsonNode? Configuration { get; set; }
    public string Accelerator { get; set; } = "";
    public string Device { get; set; } = "";
    public string KernelPath { get; set; } = "";
    public string Machine { get; set; } = MachineDescription;
    public DateTime StartedUtc { get; set; } = DateTime.UtcNow;
    public DateTime? FinishedUtc { get; set; }
    /// <summary>Wall seconds of each finished cell, by cell key: a resume keeps the time of the cells whose rows survive, and only theirs.</summary>
    public Dictionary<string, double> CellSeconds { get; set; } = [];
    public Dictionary<string, double> WallSecondsPerSetting { get; set; } = [];
    public double WallSeconds { get; set; }
    public int CellsCompleted { get; set; }
    public int CellsTotal { get; set; }
    /// <summary>Every cell key of the whole grid in run order, and the rows each has: what merging shards needs, whatever the family.</summary>
    public List<string>? GridCells { get; set; }
    public int? RowsPerCell { get; set; }
    public List<string> Files { get; set; } = [];

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string ToolVersion =>
        typeof(RunManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The commit the tool was built from (embedded at build time), or "unknown".</summary>
    public static string ToolCommit => ToolVersion.Contains('+') ? ToolVersion[(ToolVersion.IndexOf('+') + 1)..] : "unknown";

    public static string MachineDescription =>
        $"{CpuModel()} ({Environment.ProcessorCount} logical cores), {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>The CPU model as /proc/cpuinfo names it, else the architecture.</summary>
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    public void Save(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Options));
        File.Move(temporary, path, overwrite: true);
    }

    public static RunManifest? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(path), Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static T? ConfigurationAs<T>(JsonNode node) => node.Deserialize<T>(Options);

    public static JsonNode ConfigurationNode<T>(T configuration) =>
        JsonSerializer.SerializeToNode(configuration, Options) ?? new JsonObject();
}
