using System.Globalization;

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

    /// <summary>Parses "K/N" with 0 ≤ K &lt; N.</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && k < n)
            return new Shard(k, n);
        throw new UsageException($"--shard '{text}' is not valid: expected K/N with 0 ≤ K < N, e.g. --shard 0/4 for the first of four shards");
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
            throw new UsageException($"SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min ?? "(unset)"}, SLURM_ARRAY_TASK_COUNT={count} do not name one task of the array: " +
                "submit with a contiguous --array=0-(N-1), or pass --shard K/N");
        return new Shard(k - first, n);
    }
}
