using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Collapse.Kernels.Kde;

/// <summary>
/// A KDE bandwidth: a fixed h, or scikit-learn's rules from the number of fitted points m and the
/// dimension d: scott = m^(−1/(d+4)), silverman = (m·(d+2)/4)^(−1/(d+4)).
/// </summary>
[JsonConverter(typeof(BandwidthJsonConverter))]
public readonly record struct Bandwidth(string Rule, double Fixed)
{
    public static Bandwidth Of(double h) => h > 0 && double.IsFinite(h)
        ? new("fixed", h)
        : throw new ArgumentOutOfRangeException(nameof(h), h, "a bandwidth must be a positive number");

    public static readonly Bandwidth Scott = new("scott", 0), Silverman = new("silverman", 0);

    /// <summary>True when h depends on the number of fitted points (so Accumulate cannot score incrementally).</summary>
    public bool DependsOnCount => Rule != "fixed";

    public double Value(long fittedCount, int dim) => Rule switch
    {
        "fixed" => Fixed,
        "scott" => Math.Pow(fittedCount, -1.0 / (dim + 4)),
        "silverman" => Math.Pow(fittedCount * (dim + 2) / 4.0, -1.0 / (dim + 4)),
        _ => throw new InvalidOperationException($"unknown bandwidth rule {Rule}"),
    };

    /// <summary>Parses 0.1, 1.0, scott or silverman.</summary>
    public static bool TryParse(string text, out Bandwidth bandwidth)
    {
        var t = text.Trim().ToLowerInvariant();
        bandwidth = t switch { "scott" => Scott, "silverman" => Silverman, _ => default };
        if (bandwidth.Rule is not null) return true;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) && h > 0 && double.IsFinite(h))
        {
            bandwidth = new("fixed", h);
            return true;
        }
        return false;
    }

    public override string ToString() => Rule == "fixed" ? Fixed.ToString("R", CultureInfo.InvariantCulture) : Rule;
}

/// <summary>A bandwidth in JSON (manifests) as it is spelled on the command line: 0.1, scott, silverman.</summary>
public sealed class BandwidthJsonConverter : JsonConverter<Bandwidth>
{
    public override Bandwidth Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.Number ? reader.GetDouble().ToString("R", CultureInfo.InvariantCulture) : reader.GetString() ?? "";
        return Bandwidth.TryParse(text, out var h) ? h : throw new JsonException($"'{text}' is not a bandwidth");
    }

    public override void Write(Utf8JsonWriter writer, Bandwidth value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
