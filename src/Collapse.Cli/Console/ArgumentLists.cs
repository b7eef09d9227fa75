using System.Globalization;
using Collapse.Engine.Data;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Kde;

namespace Collapse.Cli.Console;

/// <summary>Comma-separated option values, with errors that name the option and the bad item.</summary>
static class ArgumentLists
{
    public static IReadOnlyList<int> Integers(string option, string text)
    {
        var items = Split(option, text);
        var values = new List<int>();
        foreach (var item in items)
        {
            if (!int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                throw new UsageException($"{option} '{item}' is not valid: expected comma-separated integers, e.g. {option} 1,3,10");
            values.Add(v);
        }
        return values;
    }

    /// <summary>Comma-separated real numbers (the engine checks their range, so the error names the value it refuses).</summary>
    public static IReadOnlyList<double> Numbers(string option, string text)
    {
        var values = new List<double>();
        foreach (var item in Split(option, text))
        {
            if (!double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw new UsageException($"{option} '{item}' is not valid: expected comma-separated numbers, e.g. {option} 0.1,1,10");
            values.Add(v);
        }
        return values;
    }

    public static IReadOnlyList<Setting> SettingList(string option, string text) =>
        Split(option, text).Select(item => Settings.TryParse(item, out var s)
            ? s
            : throw new UsageException($"{option} '{item}' is not valid: expected some of {string.Join(", ", Settings.All.Select(x => x.Name()))}")).ToList();

    public static IReadOnlyList<ToyDataset> DatasetList(string option, string text) =>
        Split(option, text).Select(item => ToyDatasets.TryParse(item, out var d)
            ? d
            : throw new UsageException($"{option} '{item}' is not valid: expected some of {string.Join(", ", ToyDatasets.All.Select(x => x.Name()))}")).ToList();

    public static IReadOnlyList<Bandwidth> BandwidthList(string option, string text) =>
        Split(option, text).Select(item => Bandwidth.TryParse(item, out var h)
            ? h
            : throw new UsageException($"{option} '{item}' is not valid: a bandwidth is a positive number (e.g. 0.1) or scott or silverman")).ToList();

    /// <summary>A comma-separated list of names (checked by the caller), lower-cased.</summary>
    public static IReadOnlyList<string> Names(string option, string text) => [.. Split(option, text).Select(n => n.ToLowerInvariant())];

    /// <summary>The --kernels option: auto (SIMD C# on the CPU where it pays) or ilgpu (ILGPU kernels everywhere).</summary>
    public static KernelPath KernelPathOption(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => KernelPath.Auto,
        "ilgpu" => KernelPath.Ilgpu,
        _ => throw new UsageException($"--kernels '{text}' is not valid: expected auto or ilgpu"),
    };

    static string[] Split(string option, string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length == 0 || items.Any(i => i.Length == 0))
            throw new UsageException($"{option} '{text}' is not valid: expected a comma-separated list with no empty items");
        return items;
    }
}
