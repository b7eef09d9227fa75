using System.Text.Json;

namespace Collapse.Performance.Check;

/// <summary>
/// <c>results/benchmarks/baseline.json</c>: each checked kernel's time divided by the calibration's,
/// as measured by <c>perf-check --update-baseline</c>, with where and from which commit.
/// </summary>
public sealed class PerfBaseline
{
    public string Machine { get; set; } = "";
    public string Commit { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
    public string Settings { get; set; } = "";
    public double CalibrationMilliseconds { get; set; }
    public Dictionary<string, BaselineEntry> Kernels { get; set; } = [];

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PerfBaseline Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<PerfBaseline>(File.ReadAllText(path), Options)
                   ?? throw new FormatException("empty");
        }
        catch (JsonException e)
        {
            throw new FormatException($"perf-check: '{path}' is not a perf-check baseline ({e.Message})", e);
        }
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Options) + "\n");
    }
}

/// <summary>One kernel's baseline: kernel time / calibration time, and the raw time for reference.</summary>
public sealed class BaselineEntry
{
    public string Size { get; set; } = "";
    public double Normalized { get; set; }
    public double Milliseconds { get; set; }
}
