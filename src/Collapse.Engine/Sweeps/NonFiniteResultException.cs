namespace Collapse.Engine.Sweeps;

/// <summary>
/// A metric came out NaN or infinite where the model defines none: the sweep stops at that cell
/// (finished cells are kept) unless non-finite values were allowed. Exit code 3.
/// </summary>
public sealed class NonFiniteResultException(string cell, int seed, int? iteration, string column, double value)
    : Exception($"cell {cell}, seed {seed}{(iteration is { } t ? $", iteration {t}" : "")}: {column} is {value} — stopped before writing this cell " +
        "(finished cells are kept); rerun with --allow-nonfinite to record such values instead")
{
    public string Cell { get; } = cell;
}
