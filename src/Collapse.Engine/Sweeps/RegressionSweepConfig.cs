using static Collapse.Kernels.Validation.InvalidParameterException;

namespace Collapse.Engine.Sweeps;

/// <summary>
/// The grid of a linear-regression sweep; the defaults are the authors' (their
/// <c>sweeps/fit_linear_regressions</c>: d ∈ {1, 3, 10, 32, 100}, n ∈ {10, 32, 100, 316, 1000},
/// σ² ∈ {0.1, 1, 10}, 100 seeds, 100 iterations, 1,000 test points).
/// </summary>
public sealed record RegressionSweepConfig : ISweepConfig
{
    public IReadOnlyList<int> Dims { get; init; } = [1, 3, 10, 32, 100];
    public IReadOnlyList<int> Samples { get; init; } = [10, 32, 100, 316, 1000];
    /// <summary>The label noise variances σ².</summary>
    public IReadOnlyList<double> NoiseVariances { get; init; } = [0.1, 1.0, 10.0];
    public int Seeds { get; init; } = 100;
    public int Iterations { get; init; } = 100;
    public IReadOnlyList<Setting> Settings { get; init; } = Scenarios.Settings.All;
    /// <summary>Fresh test points per seed on which the test MSE is measured.</summary>
    public int TestSize { get; init; } = 1000;
    /// <summary>Master seed: the first key word of every random stream.</summary>
    public uint Seed { get; init; }

    public const int MaxDim = 1024, MaxTestSize = 1_000_000;

    /// <summary>Throws <see cref="InvalidParameterException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Dims.Count == 0) throw Empty(nameof(Dims), $"give at least one dimension, e.g. {Param(nameof(Dims))} 1,3,10");
        foreach (var d in Dims)
            if (d < 1 || d > MaxDim) throw BadValue(nameof(Dims), d, $"a dimension must be an integer from 1 to {MaxDim}");
        if (Samples.Count == 0) throw Empty(nameof(Samples), $"give at least one sample size, e.g. {Param(nameof(Samples))} 10,100");
        foreach (var n in Samples)
            if (n < 1) throw BadValue(nameof(Samples), n, $"a least-squares fit needs at least 1 labelled point (n ≥ 1)");
        if (NoiseVariances.Count == 0) throw Empty(nameof(NoiseVariances), $"give at least one noise variance, e.g. {Param(nameof(NoiseVariances))} 0.1,1,10");
        foreach (var s in NoiseVariances)
            if (!(s >= 0) || !double.IsFinite(s)) throw BadValue(nameof(NoiseVariances), s, $"a noise variance σ² must be a finite number ≥ 0");
        if (Seeds < 1) throw BadValue(nameof(Seeds), Seeds, $"give at least 1 seed");
        if (Iterations < 1) throw BadValue(nameof(Iterations), Iterations, $"give at least 1 iteration (iteration 1 is the fit on real data)");
        GaussianSweepConfig.RefuseTooManyRows(Seeds, Iterations);
        if (TestSize < 1 || TestSize > MaxTestSize) throw BadValue(nameof(TestSize), TestSize, $"the test set needs 1 to {MaxTestSize:N0} points");
        if (Settings.Count == 0) throw Empty(nameof(Settings), $"expected some of replace, accumulate, accumulate-subsample");
        RefuseRepeats(nameof(Dims), Dims, "dimension");
        RefuseRepeats(nameof(Samples), Samples, "sample size");
        RefuseRepeats(nameof(NoiseVariances), NoiseVariances, "noise variance", s => CsvNumber.Format(s));
        RefuseRepeats(nameof(Settings), Settings, "setting", s => s.Name());
        GaussianSweepConfig.RefusePoolOverflow(Samples, Iterations, "labels per seed in Accumulate-Subsample's pool");
    }

    /// <summary>Cells in run order: setting, then d, then n, then σ².</summary>
    public IEnumerable<RegressionCell> Cells()
    {
        foreach (var s in Settings)
            foreach (var d in Dims)
                foreach (var n in Samples)
                    foreach (var v in NoiseVariances)
                        yield return new RegressionCell(s, d, n, v);
    }
}

public readonly record struct RegressionCell(Setting Setting, int Dim, int N, double NoiseVariance) : ISweepCell
{
    /// <summary>The cell as its CSV lines spell it: their first four columns.</summary>
    public string Key => $"{Setting.Name()},{Dim},{N},{CsvNumber.Format(NoiseVariance)}";
    public string SettingName => Setting.Name();

    public override string ToString() => $"{Setting.Name()} d={Dim} n={N} σ²={CsvNumber.Format(NoiseVariance)}";
}
