using System.Text.Json;

namespace Collapse.Performance.Check;

/// <summary>
/// What one side-by-side perf-check measured, for the per-machine trend record
/// (<c>results/benchmarks/&lt;machine&gt;/perf-check.json</c>, written with <c>--record</c>). A
/// record of one machine, never a pass/fail line for another.
/// </summary>
public sealed class PerfRecord
{
    public string Machine { get; set; } = "";
    public string Commit { get; set; } = "";
    public string ReferenceCommit { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
    public string Settings { get; set; } = "";
    public double Threshold { get; set; }
    public string LoadAverage { get; set; } = "";
    public Dictionary<string, RecordedWorkload> Workloads { get; set; } = [];

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PerfRecord Load(string path) =>
        JsonSerializer.Deserialize<PerfRecord>(File.ReadAllText(path), Options) ?? throw new FormatException($"'{path}' is empty");

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");
    }
}

/// <summary>One workload: this / reference (median of the rounds' ratios, lowest over remeasurements) and both sides' median CPU times.</summary>
public sealed class RecordedWorkload
{
    public string Size { get; set; } = "";
    public double Ratio { get; set; }
    public double ThisMilliseconds { get; set; }
    public double ReferenceMilliseconds { get; set; }
    public double Spread { get; set; }
    public int Measurements { get; set; }
}
