using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Scenarios;

namespace Collapse.Engine.Sweeps;

/// <summary>The grid of a Gaussian sweep; the defaults are the paper's.</summary>
public sealed record GaussianSweepConfig
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

    /// <summary>Throws <see cref="UsageException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Dims.Count == 0) throw new UsageException("--dims is empty: give at least one dimension, e.g. --dims 1,3,10");
        foreach (var d in Dims)
            if (d < 1 || d > 1024) throw new UsageException($"--dims {d} is not valid: a dimension must be an integer from 1 to 1024");
        if (Samples.Count == 0) throw new UsageException("--samples is empty: give at least one sample size, e.g. --samples 10,100");
        foreach (var n in Samples)
            if (n < 2) throw new UsageException($"--samples {n} is not valid: a fit needs at least 2 points (n ≥ 2) for a covariance");
        if (Seeds < 1) throw new UsageException($"--seeds {Seeds} is not valid: give at least 1 seed");
        if (Iterations < 1) throw new UsageException($"--iterations {Iterations} is not valid: give at least 1 iteration (iteration 1 is the fit on real data)");
        if ((long)Seeds * Iterations > MaxRowsPerCell)
            throw new UsageException($"--seeds {Seeds} × --iterations {Iterations} is {(long)Seeds * Iterations:N0} rows per cell: at most {MaxRowsPerCell:N0} are supported");
        if (Settings.Count == 0) throw new UsageException("--settings is empty: expected some of replace, accumulate, accumulate-subsample");
        if (Method == GaussianMethod.Wishart && Settings.Contains(Setting.AccumulateSubsample))
            throw new UsageException("--method wishart does not support accumulate-subsample (it draws no points to subsample): use --method data, or --settings replace,accumulate");
        if (Dims.Distinct().Count() != Dims.Count) throw new UsageException("--dims lists a dimension twice");
        if (Samples.Distinct().Count() != Samples.Count) throw new UsageException("--samples lists a sample size twice");
        if (Settings.Distinct().Count() != Settings.Count) throw new UsageException("--settings lists a setting twice");
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
