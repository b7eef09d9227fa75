using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>The grid of a KDE sweep; the defaults are the paper's.</summary>
public sealed record KdeSweepConfig : ISweepConfig
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

    /// <summary>Throws <see cref="InvalidParameterException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Datasets.Count == 0) throw Empty(nameof(Datasets), $"expected some of {string.Join(", ", ToyDatasets.All.Select(d => d.Name()))}");
        if (Bandwidths.Count == 0) throw Empty(nameof(Bandwidths), $"give positive numbers or scott/silverman, e.g. {Param(nameof(Bandwidths))} 0.1,0.5");
        if (Samples.Count == 0) throw Empty(nameof(Samples), $"give at least one sample size, e.g. {Param(nameof(Samples))} 10,100");
        foreach (var n in Samples)
            if (n < 1) throw BadValue(nameof(Samples), n, $"a KDE needs at least 1 point (n ≥ 1)");
        if (Seeds < 1) throw BadValue(nameof(Seeds), Seeds, $"give at least 1 seed");
        if (Iterations < 1) throw BadValue(nameof(Iterations), Iterations, $"give at least 1 iteration (iteration 1 is the fit on real data)");
        GaussianSweepConfig.RefuseTooManyRows(Seeds, Iterations);
        RefuseBadTestSize(TestSize);
        if (Settings.Count == 0) throw Empty(nameof(Settings), $"expected some of replace, accumulate, accumulate-subsample");
        RefuseRepeats(nameof(Datasets), Datasets, "dataset", d => d.Name());
        RefuseRepeats(nameof(Bandwidths), Bandwidths, "bandwidth");
        RefuseRepeats(nameof(Samples), Samples, "sample size");
        RefuseRepeats(nameof(Settings), Settings, "setting", s => s.Name());
        GaussianSweepConfig.RefusePoolOverflow(Samples, Iterations, "points per seed in Accumulate's pool");
    }

    /// <summary>Real test points per seed: 1 to <see cref="MaxTestSize"/> (the mix study's too).</summary>
    public static void RefuseBadTestSize(int? testSize)
    {
        if (testSize is not (>= 1 and <= MaxTestSize)) throw BadValue(nameof(TestSize), testSize, $"give 1 to {MaxTestSize:N0} test points");
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
