namespace Collapse.Performance.Reference;

/// <summary>Plain float64 peers of the KDE kernels, one replicate per call, written for clarity.</summary>
public static class PlainKde
{
    /// <summary>log Σ_i exp(−‖t − x_i‖² · inverseTwoH2) over m fitted points [point][d], by a two-pass log-sum-exp.</summary>
    public static double LogSumExp(ReadOnlySpan<double> test, ReadOnlySpan<double> fitted, int m, int d, double inverseTwoH2)
    {
        var max = double.NegativeInfinity;
        for (var i = 0; i < m; i++) max = Math.Max(max, Exponent(test, fitted.Slice(i * d, d), inverseTwoH2));
        var sum = 0.0;
        for (var i = 0; i < m; i++) sum += Math.Exp(Exponent(test, fitted.Slice(i * d, d), inverseTwoH2) - max);
        return max + Math.Log(sum);
    }

    static double Exponent(ReadOnlySpan<double> t, ReadOnlySpan<double> x, double inverseTwoH2)
    {
        var squared = 0.0;
        for (var j = 0; j < t.Length; j++) squared += (t[j] - x[j]) * (t[j] - x[j]);
        return -squared * inverseTwoH2;
    }

    /// <summary>
    /// count points: fitted point UniformInt(m) number p of <paramref name="choices"/> plus h times
    /// normals p·d … of <paramref name="noise"/> (the numbers the kernel uses).
    /// </summary>
    public static void Sample(RandomStream choices, RandomStream noise, ReadOnlySpan<double> fitted, int m, int d, double h,
        int count, Span<double> output)
    {
        for (var p = 0; p < count; p++)
        {
            var chosen = (int)Philox.UniformIntAt(choices, (ulong)p, (uint)m);
            for (var j = 0; j < d; j++)
                output[p * d + j] = fitted[chosen * d + j] + h * Philox.Normal(noise, (ulong)((long)p * d + j));
        }
    }
}
