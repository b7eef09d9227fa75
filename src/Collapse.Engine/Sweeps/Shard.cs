using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// One of N deterministic slices of a grid: cell number i (in run order) belongs to shard
/// i mod N, so every shard gets a similar mix of cheap and expensive cells. K counts from 0, as
/// Slurm job arrays do (<c>--array=0-3</c> for four shards).
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public bool Contains(int cellIndex) => cellIndex % Count == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>The engine's name for the parameter a shard is chosen by.</summary>
    public const string Parameter = "Shard";

    /// <summary>Parses "K/N" with 0 ≤ K &lt; N.</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && k < n)
            return new Shard(k, n);
        throw BadValue(Parameter, text, $"expected K/N with 0 ≤ K < N, e.g. {Param(Parameter)} 0/4 for the first of four shards");
    }

    /// <summary>
    /// The shard a Slurm array task should run: SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN of
    /// SLURM_ARRAY_TASK_COUNT; null outside a job array.
    /// </summary>
    public static Shard? FromSlurm(Func<string, string?> environment)
    {
        var (id, count, min) = (environment("SLURM_ARRAY_TASK_ID"), environment("SLURM_ARRAY_TASK_COUNT"), environment("SLURM_ARRAY_TASK_MIN"));
        if (id is null || count is null) return null;
        if (!int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || !int.TryParse(min ?? "0", NumberStyles.None, CultureInfo.InvariantCulture, out var first) || k - first < 0 || k - first >= n)
        {
            // Slurm's variables, not a parameter, are at fault; the remedy names Slurm's own --array and this parameter.
            var variables = $"SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min ?? "(unset)"}, SLURM_ARRAY_TASK_COUNT={count}";
            throw new InvalidParameterException(ParameterProblem.BadValue, Parameter, null, $"a task of a contiguous job array, or an explicit K/N",
                $"{variables} do not name one task of the array", subject: variables,
                advice: $"submit with a contiguous --array=0-(N-1), or pass {Param(Parameter)} K/N");
        }
        return new Shard(k - first, n);
    }
}
