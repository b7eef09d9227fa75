using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>The grid of a Gaussian sweep; the defaults are the paper's.</summary>
public sealed record GaussianSweepConfig : ISweepConfig
{
    public IReadOnlyList<int> Dims { get; init; } = [1, 3, 10, 31, 100];
    public IReadOnlyList<int> Samples { get; init; } = [10, 32, 100, 316, 1000];
    public int Seeds { get; init; } = 100;
    public int Iterations { get; init; } = 100;
    public IReadOnlyList<Setting> Settings { get; init; } = Scenarios.Settings.All;
    public GaussianMethod Method { get; init; } = GaussianMethod.Data;
    /// <summary>Master seed: the first key word of every random stream.</summary>
    public uint Seed { get; init; }

    /// <summary>A cell's rows are held in memory until the cell is written.</summary>
    public const long MaxRowsPerCell = 50_000_000;

    /// <summary>Throws <see cref="InvalidParameterException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Dims.Count == 0) throw Empty(nameof(Dims), $"give at least one dimension, e.g. {Param(nameof(Dims))} 1,3,10");
        foreach (var d in Dims)
            if (d < 1 || d > 1024) throw BadValue(nameof(Dims), d, $"a dimension must be an integer from 1 to 1024");
        if (Samples.Count == 0) throw Empty(nameof(Samples), $"give at least one sample size, e.g. {Param(nameof(Samples))} 10,100");
        foreach (var n in Samples)
            if (n < 2) throw BadValue(nameof(Samples), n, $"a fit needs at least 2 points (n ≥ 2) for a covariance");
        if (Seeds < 1) throw BadValue(nameof(Seeds), Seeds, $"give at least 1 seed");
        if (Iterations < 1) throw BadValue(nameof(Iterations), Iterations, $"give at least 1 iteration (iteration 1 is the fit on real data)");
        RefuseTooManyRows(Seeds, Iterations);
        if (Settings.Count == 0) throw Empty(nameof(Settings), $"expected some of replace, accumulate, accumulate-subsample");
        // The method's declared capabilities decide which settings it runs (wishart has no pool to subsample).
        var capabilities = Method == GaussianMethod.Wishart ? WishartGaussianFamily.Declared : GaussianFamily.Declared;
        if (Settings.Any(s => ScenarioPolicy.For(s).Refusal(capabilities) is not null))
            throw Conflict(nameof(Method), "wishart", nameof(Settings), $"the data method, or the settings replace and accumulate",
                $"{Param(nameof(Method))} wishart does not support accumulate-subsample (it draws no points to subsample): " +
                $"use {Param(nameof(Method))} data, or {Param(nameof(Settings))} replace,accumulate");
        RefuseRepeats(nameof(Dims), Dims, "dimension");
        RefuseRepeats(nameof(Samples), Samples, "sample size");
        RefuseRepeats(nameof(Settings), Settings, "setting", s => s.Name());
    }

    /// <summary>Seeds × iterations rows are held per cell: refused above <see cref="MaxRowsPerCell"/> (every chained sweep's check).</summary>
    public static void RefuseTooManyRows(int seeds, int iterations)
    {
        if ((long)seeds * iterations > MaxRowsPerCell)
            throw Conflict(nameof(Seeds), seeds, nameof(Iterations), $"{Param(nameof(Seeds))} × {Param(nameof(Iterations))} at most {MaxRowsPerCell:N0} rows per cell",
                $"{Param(nameof(Seeds))} {seeds} × {Param(nameof(Iterations))} {iterations} is {(long)seeds * iterations:N0} rows per cell: at most {MaxRowsPerCell:N0} are supported");
    }

    /// <summary>
    /// n × iterations records per seed must fit a pool indexed by int: refused above int.MaxValue (the KDE's and the
    /// regression's check); <paramref name="pool"/> finishes the sentence, e.g. "points per seed in Accumulate's pool".
    /// </summary>
    public static void RefusePoolOverflow(IEnumerable<int> samples, int iterations, string pool)
    {
        foreach (var n in samples)
            if ((long)n * iterations > int.MaxValue)
                throw Conflict(nameof(Samples), n, nameof(Iterations), $"{Param(nameof(Samples))} × {Param(nameof(Iterations))} at most {int.MaxValue:N0}",
                    $"{Param(nameof(Samples))} {n} × {Param(nameof(Iterations))} {iterations} exceeds {int.MaxValue:N0} {pool}");
    }

    /// <summary>Cells in run order: setting, then d, then n.</summary>
    public IEnumerable<GaussianCell> Cells()
    {
        foreach (var s in Settings)
            foreach (var d in Dims)
                foreach (var n in Samples)
                    yield return new GaussianCell(s, d, n);
    }
}

public readonly record struct GaussianCell(Setting Setting, int Dim, int N) : ISweepCell
{
    /// <summary>The cell as its CSV lines spell it: their first three columns.</summary>
    public string Key => $"{Setting.Name()},{Dim},{N}";
    public string SettingName => Setting.Name();

    public override string ToString() => $"{Setting.Name()} d={Dim} n={N}";
}
