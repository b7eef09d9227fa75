using System.Text.Json;
using System.Text.Json.Nodes;

namespace Collapse.Engine.Reproduce;

/// <summary>
/// <c>DIR/reproduce.json</c>: which experiments a reproduce run finished (sweep and figures), with
/// what configuration and in how long. An experiment recorded here with the configuration asked for
/// now, whose manifest says complete, is skipped on a rerun; the sweep's own journal resumes the rest.
/// Rewritten atomically after each experiment.
/// </summary>
public sealed class ReproduceState
{
    public const string FileName = "reproduce.json";

    public string Preset { get; set; } = "";
    public Dictionary<string, ExperimentState> Experiments { get; set; } = [];

    public sealed class ExperimentState
    {
        public JsonNode? Configuration { get; set; }
        /// <summary>Wall time of the sweep and its figures, as this command measured it.</summary>
        public double WallSeconds { get; set; }
        public DateTime FinishedUtc { get; set; }
    }

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    };

    public static ReproduceState Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return new ReproduceState();
        try
        {
            return JsonSerializer.Deserialize<ReproduceState>(File.ReadAllText(path), Options) ?? new ReproduceState();
        }
        catch (JsonException)
        {
            return new ReproduceState();
        }
    }

    public void Save(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Options));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Whether <paramref name="experiment"/> finished here with exactly this configuration.</summary>
    public bool Finished(string experiment, JsonNode configuration) =>
        Experiments.TryGetValue(experiment, out var e) && JsonNode.DeepEquals(e.Configuration, configuration);
}
