namespace Collapse.Engine.Families;

/// <summary>
/// Exact expectations for Replace in the Gaussian setting (docs/DESIGN.md, section A): n·Σ_t given
/// Σ_{t−1} is Wishart(n − 1, Σ_{t−1}), so with Σ₀ = σ²I and iteration 1 the fit on real data:
/// E[det ratio at t] = (Π_{i=1..d} (n − i)/n)^t, E[trace ratio at t] = ((n − 1)/n)^t, and
/// E[log det ratio at t] = t·(Σ_{i=1..d} ψ((n − i)/2) + d·log(2/n)), E‖μ_t‖² = d·(1 − ((n−1)/n)^t).
/// </summary>
public static class GaussianTheory
{
    public static double ExpectedTraceRatio(int n, int iteration) => Math.Pow((n - 1.0) / n, iteration);

    /// <summary>
    /// E‖μ_t − μ₀‖² = Σ_{s=0}^{t−1} E[tr Σ_s]/n = d·(1 − ((n − 1)/n)^t): each fit's mean moves by
    /// N(0, Σ_{s}/n) from the previous one.
    /// </summary>
    public static double ExpectedSquaredErrorMean(int d, int n, int iteration) =>
        d * (1.0 - Math.Pow((n - 1.0) / n, iteration));

    /// <summary>log E[det ratio]; −∞ when n ≤ d (the fit is singular).</summary>
    public static double LogExpectedDetRatio(int d, int n, int iteration)
    {
        if (n <= d) return double.NegativeInfinity;
        var perStep = 0.0;
        for (var i = 1; i <= d; i++) perStep += Math.Log((n - (double)i) / n);
        return iteration * perStep;
    }

    /// <summary>E[log det ratio]: log det of a Wishart(n−1, I)/n is Σ ψ((n−i)/2) + d·log(2/n).</summary>
    public static double ExpectedLogDetRatio(int d, int n, int iteration)
    {
        if (n <= d) return double.NegativeInfinity;
        var perStep = 0.0;
        for (var i = 1; i <= d; i++) perStep += Digamma((n - (double)i) / 2.0) + Math.Log(2.0 / n);
        return iteration * perStep;
    }

    /// <summary>Var[log det ratio at t] = t·Σ ψ'((n − i)/2) (independent steps, each a sum of independent log χ²).</summary>
    public static double VarianceLogDetRatio(int d, int n, int iteration)
    {
        var perStep = 0.0;
        for (var i = 1; i <= d; i++) perStep += Trigamma((n - (double)i) / 2.0);
        return iteration * perStep;
    }

    /// <summary>ψ(x) for x &gt; 0: recurrence up to x ≥ 10, then the asymptotic series (error below 1e-14).</summary>
    public static double Digamma(double x)
    {
        var result = 0.0;
        while (x < 10.0)
        {
            result -= 1.0 / x;
            x += 1.0;
        }
        var f = 1.0 / (x * x);
        return result + Math.Log(x) - 0.5 / x
               - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
    }

    /// <summary>ψ'(x) for x &gt; 0.</summary>
    public static double Trigamma(double x)
    {
        var result = 0.0;
        while (x < 10.0)
        {
            result += 1.0 / (x * x);
            x += 1.0;
        }
        var f = 1.0 / (x * x);
        return result + 1.0 / x + f / 2.0
               + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30))));
    }
}
