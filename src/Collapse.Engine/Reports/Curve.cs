namespace Collapse.Engine.Reports;

/// <summary>A mean over seeds with its standard error (sample sd / √count; NaN with fewer than 2 values).</summary>
public readonly record struct Estimate(double Mean, double StandardError, int Count)
{
    /// <summary>Whether |mean| exceeds <paramref name="z"/> standard errors (false when the error is unknown).</summary>
    public bool Significant(double z) => Count >= 2 && double.IsFinite(Mean) && double.IsFinite(StandardError) && Math.Abs(Mean) > z * StandardError;

    /// <summary>Whether both numbers are finite (an estimate a rule can judge).</summary>
    public bool Known => double.IsFinite(Mean) && double.IsFinite(StandardError);

    /// <summary>
    /// Mean and standard error, computed on the values divided by their largest magnitude: the
    /// squared deviations of det ratios near 1e-230 underflowed to 0 (a report printed "8.1E-230 ± 0"
    /// and called the mean significant), and those of values near 1e200 would overflow.
    /// </summary>
    public static Estimate Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return new Estimate(double.NaN, double.NaN, 0);
        var scale = values.Max(Math.Abs);
        if (!double.IsFinite(scale) || scale == 0)
        {
            var plain = values.Average();
            return new Estimate(plain, values.Count >= 2 && scale == 0 ? 0 : double.NaN, values.Count);
        }
        var scaledMean = values.Average(v => v / scale);
        var mean = scaledMean * scale;
        if (values.Count < 2) return new Estimate(mean, double.NaN, values.Count);
        var variance = values.Sum(v => (v / scale - scaledMean) * (v / scale - scaledMean)) / (values.Count - 1);
        return new Estimate(mean, Math.Sqrt(variance / values.Count) * scale, values.Count);
    }
}

/// <summary>
/// One metric of one grid cell under one setting: each seed's value at iterations 1..T
/// (<c>Values[k][t − 1]</c> for seed <c>SeedIds[k]</c>). The verdict rules take curves, so tests can
/// feed them synthetic ones.
/// </summary>
public sealed record Curve(IReadOnlyList<int> SeedIds, IReadOnlyList<double[]> Values)
{
    /// <summary>A curve from per-seed arrays, seeds numbered 0, 1, ….</summary>
    public static Curve FromSeeds(params double[][] values) => new(Enumerable.Range(0, values.Length).ToList(), values);

    public int Seeds => Values.Count;

    /// <summary>The iterations every seed has.</summary>
    public int Iterations => Values.Count == 0 ? 0 : Values.Min(v => v.Length);

    /// <summary>Mean ± se over seeds at an iteration (1-based).</summary>
    public Estimate At(int iteration) => Estimate.Of(Values.Select(v => v[iteration - 1]).ToList());

    /// <summary>Paired change from iteration <paramref name="from"/> to <paramref name="to"/>: mean over seeds of v[to] − v[from].</summary>
    public Estimate Change(int from, int to) => Estimate.Of(Values.Select(v => v[to - 1] - v[from - 1]).ToList());

    /// <summary>Mean over seeds of each seed's least-squares slope (per iteration) over iterations <paramref name="from"/>..<paramref name="to"/>.</summary>
    public Estimate Slope(int from, int to) => Estimate.Of(Values.Select(v => LeastSquaresSlope(v, from, to)).ToList());

    /// <summary>Paired difference a − b at an iteration over the seeds both curves have.</summary>
    public static Estimate Difference(Curve a, Curve b, int iteration)
    {
        var other = b.SeedIds.Select((id, k) => (id, k)).ToDictionary(p => p.id, p => p.k);
        var differences = a.SeedIds.Select((id, k) => (id, k)).Where(p => other.ContainsKey(p.id))
            .Select(p => a.Values[p.k][iteration - 1] - b.Values[other[p.id]][iteration - 1]).ToList();
        return Estimate.Of(differences);
    }

    static double LeastSquaresSlope(double[] v, int from, int to)
    {
        var count = to - from + 1;
        var xMean = (from + to) / 2.0;
        var yMean = 0.0;
        for (var t = from; t <= to; t++) yMean += v[t - 1];
        yMean /= count;
        double sxy = 0, sxx = 0;
        for (var t = from; t <= to; t++)
        {
            sxy += (t - xMean) * (v[t - 1] - yMean);
            sxx += (t - xMean) * (t - xMean);
        }
        return sxx == 0 ? double.NaN : sxy / sxx;
    }
}

/// <summary>One grid cell's curves of one metric, one per setting (null where the run lacks the setting).</summary>
/// <param name="Cell">How the report names the cell, e.g. <c>trace_ratio d=10 n=32</c>.</param>
public sealed record CellCurves(string Cell, Curve? Replace, Curve? Accumulate, Curve? Subsample);
