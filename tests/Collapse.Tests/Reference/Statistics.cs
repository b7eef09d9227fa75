namespace Collapse.Tests.Reference;

/// <summary>Small statistics helpers for the statistical tests.</summary>
public static class Statistics
{
    /// <summary>Standard error of the mean.</summary>
    public static double StandardError(IReadOnlyCollection<double> values)
    {
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }

    /// <summary>Pearson's chi-square statistic of observed counts against expected counts.</summary>
    public static double ChiSquare(IReadOnlyList<long> observed, IReadOnlyList<double> expected)
    {
        var chi = 0.0;
        for (var i = 0; i < observed.Count; i++) chi += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
        return chi;
    }

    /// <summary>
    /// A generous upper bound for a chi-square with k degrees of freedom (Wilson–Hilferty at
    /// z = 4.5, about a 1-in-300,000 false alarm), so fixed-seed tests are not flaky.
    /// </summary>
    public static double ChiSquareBound(int k)
    {
        const double z = 4.5;
        var c = 2.0 / (9.0 * k);
        return k * Math.Pow(1 - c + z * Math.Sqrt(c), 3);
    }
}
