namespace Collapse.Engine.Sweeps;

/// <summary>
/// A metric came out NaN or infinite where the model defines none: the sweep stops at that cell
/// (finished cells are kept) unless non-finite values were allowed (a sweep's AllowNonFinite). Exit
/// code 3. The message is in the engine's words; the CLI adds the flag that allows them.
/// </summary>
public sealed class NonFiniteResultException(string cell, int seed, int? iteration, string column, double value)
    : Exception($"cell {cell}, seed {seed}{(iteration is { } t ? $", iteration {t}" : "")}: {column} is {value} — stopped before writing this cell " +
        "(finished cells are kept)")
{
    public string Cell { get; } = cell;
    public int Seed { get; } = seed;
    public int? Iteration { get; } = iteration;
    public string Column { get; } = column;
    public double Value { get; } = value;
}
