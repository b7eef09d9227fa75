using Collapse.Engine.Data;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Kde;

namespace Collapse.Engine.Sweeps;

/// <summary>The grid of a KDE sweep; the defaults are the paper's.</summary>
public sealed record KdeSweepConfig
{
    public IReadOnlyList<ToyDataset> Datasets { get; init; } = ToyDatasets.All;
    public IReadOnlyList<Bandwidth> Bandwidths { get; init; } = [Bandwidth.Of(0.1), Bandwidth.Of(0.5), Bandwidth.Of(1.0)];
    public IReadOnlyList<int> Samples { get; init; } = [10, 32, 100, 316, 1000];
    public int Seeds { get; init; } = 100;
    public int Iterations { get; init; } = 100;
    public IReadOnlyList<Setting> Settings { get; init; } = Scenarios.Settings.All;
    public int TestSize { get; init; } = 500;
    /// <summary>Master seed: the first key word of every random stream.</summary>
    public uint Seed { get; init; }

    public const int MaxTestSize = 1_000_000;

    /// <summary>Throws <see cref="UsageException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Datasets.Count == 0) throw new UsageException($"--datasets is empty: expected some of {string.Join(", ", ToyDatasets.All.Select(d => d.Name()))}");
        if (Bandwidths.Count == 0) throw new UsageException("--bandwidths is empty: give positive numbers or scott/silverman, e.g. --bandwidths 0.1,0.5");
        if (Samples.Count == 0) throw new UsageException("--samples is empty: give at least one sample size, e.g. --samples 10,100");
        foreach (var n in Samples)
            if (n < 1) throw new UsageException($"--samples {n} is not valid: a KDE needs at least 1 point (n ≥ 1)");
        if (Seeds < 1) throw new UsageException($"--seeds {Seeds} is not valid: give at least 1 seed");
        if (Iterations < 1) throw new UsageException($"--iterations {Iterations} is not valid: give at least 1 iteration (iteration 1 is the fit on real data)");
        if ((long)Seeds * Iterations > GaussianSweepConfig.MaxRowsPerCell)
            throw new UsageException($"--seeds {Seeds} × --iterations {Iterations} is {(long)Seeds * Iterations:N0} rows per cell: at most {GaussianSweepConfig.MaxRowsPerCell:N0} are supported");
        if (TestSize < 1 || TestSize > MaxTestSize) throw new UsageException($"--test-size {TestSize} is not valid: give 1 to {MaxTestSize:N0} test points");
        if (Settings.Count == 0) throw new UsageException("--settings is empty: expected some of replace, accumulate, accumulate-subsample");
        if (Datasets.Distinct().Count() != Datasets.Count) throw new UsageException("--datasets lists a dataset twice");
        if (Bandwidths.Distinct().Count() != Bandwidths.Count) throw new UsageException("--bandwidths lists a bandwidth twice");
        if (Samples.Distinct().Count() != Samples.Count) throw new UsageException("--samples lists a sample size twice");
        if (Settings.Distinct().Count() != Settings.Count) throw new UsageException("--settings lists a setting twice");
        foreach (var n in Samples)
            if ((long)n * Iterations > int.MaxValue)
                throw new UsageException($"--samples {n} × --iterations {Iterations} exceeds {int.MaxValue:N0} points per seed in Accumulate's pool");
    }

    /// <summary>Cells in run order: setting, dataset, bandwidth, then n.</summary>
    public IEnumerable<KdeCell> Cells()
    {
        foreach (var s in Settings)
            foreach (var d in Datasets)
                foreach (var h in Bandwidths)
                    foreach (var n in Samples)
                        yield return new KdeCell(d, h, s, n);
    }
}

public readonly record struct KdeCell(ToyDataset Dataset, Bandwidth Bandwidth, Setting Setting, int N) : ISweepCell
{
    /// <summary>The cell as its CSV lines spell it: their first four columns.</summary>
    public string Key => $"{Dataset.Name()},{Bandwidth},{Setting.Name()},{N}";
    public string SettingName => Setting.Name();

    public override string ToString() => $"{Setting.Name()} {Dataset.Name()} h={Bandwidth} n={N}";
}
