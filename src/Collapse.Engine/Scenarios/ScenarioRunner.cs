using Collapse.Engine.Families;

namespace Collapse.Engine.Scenarios;

/// <summary>
/// Runs one model-fitting chain (iterations 1..T) for every replicate of a family batch. The
/// settings differ only in which data each fit sees; the family does all the numerics.
/// </summary>
public static class ScenarioRunner
{
    /// <param name="onIteration">Called after each fit with (iteration, metrics[replicate, metric]).</param>
    public static void Run(Setting setting, IModelFamily family, int n, int iterations,
        Action<int, double[,]> onIteration, CancellationToken cancellation = default)
    {
        var metrics = new double[family.Replicates, family.MetricNames.Count];
        using var pool = CreatePool(setting, family, n, iterations);
        for (var t = 1; t <= iterations; t++)
        {
            cancellation.ThrowIfCancellationRequested();
            Step(setting, family, pool, n, t, metrics);
            onIteration(t, metrics);
        }
    }

    /// <summary>Accumulate-Subsample's pool for a chain of <paramref name="iterations"/>; null for the other settings.</summary>
    public static IDataPool? CreatePool(Setting setting, IModelFamily family, int n, int iterations) =>
        setting == Setting.AccumulateSubsample ? family.CreatePool((long)n * iterations) : null;

    /// <summary>
    /// Iteration <paramref name="t"/> of a chain: draw (real data at t = 1, else samples of the
    /// previous fit), fit what the setting says, write the metrics.
    /// </summary>
    public static void Step(Setting setting, IModelFamily family, IDataPool? pool, int n, int t, double[,] metrics)
    {
        // Iteration 1 fits the real data; each later fit sees data sampled from the previous fit.
        using var newest = t == 1 ? family.DrawReal(n) : family.Sample(n, t);
        switch (setting)
        {
            case Setting.Replace:
                family.Fit(newest);
                break;
            case Setting.Accumulate:
                family.FitAccumulated(newest);
                break;
            case Setting.AccumulateSubsample:
                pool!.Add(newest);
                using (var subsample = pool.Subsample(n, t))
                    family.Fit(subsample);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(setting), setting, null);
        }
        family.Evaluate(metrics);
    }
}
