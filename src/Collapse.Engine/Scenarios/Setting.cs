namespace Collapse.Engine.Scenarios;

/// <summary>The paper's settings: how the data of the next fit is chosen.</summary>
public enum Setting
{
    /// <summary>The next fit uses only the newest n synthetic points.</summary>
    Replace,
    /// <summary>The next fit uses everything so far: real plus all synthetic (t·n points at iteration t).</summary>
    Accumulate,
    /// <summary>The pool grows as in Accumulate, but each fit uses n points drawn from it without replacement.</summary>
    AccumulateSubsample,
}

public static class Settings
{
    public static readonly IReadOnlyList<Setting> All = [Setting.Replace, Setting.Accumulate, Setting.AccumulateSubsample];

    /// <summary>The spelling used on the command line and in CSV files.</summary>
    public static string Name(this Setting setting) => setting switch
    {
        Setting.Replace => "replace",
        Setting.Accumulate => "accumulate",
        Setting.AccumulateSubsample => "accumulate-subsample",
        _ => throw new ArgumentOutOfRangeException(nameof(setting)),
    };

    public static bool TryParse(string text, out Setting setting)
    {
        foreach (var s in All)
            if (string.Equals(s.Name(), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                setting = s;
                return true;
            }
        setting = default;
        return false;
    }

    public static Setting Parse(string text) => TryParse(text, out var s)
        ? s
        : throw new FormatException($"unknown setting '{text}': expected one of {string.Join(", ", All.Select(Name))}");
}
