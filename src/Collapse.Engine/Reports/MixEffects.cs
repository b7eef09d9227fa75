namespace Collapse.Engine.Reports;

/// <summary>What adding synthetic data did to the test metric at one grid point (lower metric = better).</summary>
public enum Effect
{
    /// <summary>The metric is significantly lower than with no synthetic data.</summary>
    Helped,
    /// <summary>The metric is significantly higher than with no synthetic data.</summary>
    Hurt,
    /// <summary>The difference is within the noise of the seeds.</summary>
    NoSignificantChange,
    /// <summary>Too few seeds (fewer than 2) to tell.</summary>
    Inconclusive,
}

/// <summary>
/// One (num_real, num_synthetic &gt; 0) point of a mix grid against the same num_real with no
/// synthetic data: the difference is paired by seed (each seed's models share their real data
/// and test set), so it is far less noisy than the two means.
/// </summary>
/// <param name="Baseline">Mean test metric over seeds with num_synthetic = 0.</param>
/// <param name="Mean">Mean test metric over seeds at this num_synthetic.</param>
/// <param name="Difference">Mean over seeds of metric(num_synthetic) − metric(0).</param>
/// <param name="StandardError">Standard error of <paramref name="Difference"/> (sample sd / √seeds; NaN with one seed).</param>
public sealed record MixEffect(int NumReal, int NumSynthetic, int Seeds, double Baseline, double Mean, double Difference,
    double StandardError, Effect Effect);

public static class MixEffects
{
    /// <summary>
    /// Every num_real (ascending) × num_synthetic &gt; 0 (ascending) with its paired difference to
    /// num_synthetic = 0. The rule: |difference| &gt; <paramref name="z"/> standard errors is an effect
    /// (Helped when negative, Hurt when positive), else no significant change; Inconclusive with fewer
    /// than 2 seeds. Only seeds present at both points are paired; a num_real without a
    /// num_synthetic = 0 row has no baseline and is left out.
    /// </summary>
    public static IReadOnlyList<MixEffect> Compute(IReadOnlyList<MixRow> rows, double z = 2.0)
    {
        var effects = new List<MixEffect>();
        foreach (var real in rows.GroupBy(r => r.NumReal).OrderBy(g => g.Key))
        {
            var baseline = real.Where(r => r.NumSynthetic == 0).GroupBy(r => r.Seed).ToDictionary(g => g.Key, g => g.First().TestMetric);
            if (baseline.Count == 0) continue;
            foreach (var synthetic in real.Where(r => r.NumSynthetic > 0).GroupBy(r => r.NumSynthetic).OrderBy(g => g.Key))
            {
                var pairs = synthetic.Where(r => baseline.ContainsKey(r.Seed)).GroupBy(r => r.Seed)
                    .Select(g => (Base: baseline[g.Key], Value: g.First().TestMetric)).ToList();
                if (pairs.Count == 0) continue;
                var differences = pairs.Select(p => p.Value - p.Base).ToList();
                var mean = differences.Average();
                var se = pairs.Count < 2 ? double.NaN
                    : Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (pairs.Count - 1) / pairs.Count);
                var effect = pairs.Count < 2 ? Effect.Inconclusive
                    : Math.Abs(mean) > z * se ? (mean < 0 ? Effect.Helped : Effect.Hurt)
                    : Effect.NoSignificantChange;
                effects.Add(new MixEffect(real.Key, synthetic.Key, pairs.Count, pairs.Average(p => p.Base), pairs.Average(p => p.Value), mean, se, effect));
            }
        }
        return effects;
    }
}
