using System.Globalization;
using Collapse.Engine.Scenarios;
using Collapse.Engine.Sweeps;

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

    public static IReadOnlyList<Setting> SettingList(string option, string text) =>
        Split(option, text).Select(item => Settings.TryParse(item, out var s)
            ? s
            : throw new UsageException($"{option} '{item}' is not valid: expected some of {string.Join(", ", Settings.All.Select(x => x.Name()))}")).ToList();

    static string[] Split(string option, string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length == 0 || items.Any(i => i.Length == 0))
            throw new UsageException($"{option} '{text}' is not valid: expected a comma-separated list with no empty items");
        return items;
    }
}
