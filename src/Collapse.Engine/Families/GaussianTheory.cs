namespace Collapse.Engine.Families;

/// <summary>
/// Exact expectations in the Gaussian setting (docs/DESIGN.md, section A). Replace: n·Σ_t given
/// Σ_{t−1} is Wishart(n − 1, Σ_{t−1}), so with Σ₀ = σ²I and iteration 1 the fit on real data:
/// E[det ratio at t] = (Π_{i=1..d} (n − i)/n)^t, E[trace ratio at t] = ((n − 1)/n)^t, and
/// E[log det ratio at t] = t·(Σ_{i=1..d} ψ((n − i)/2) + d·log(2/n)), E‖μ_t‖² = d·(1 − ((n−1)/n)^t).
/// Accumulate and Accumulate-Subsample: E[trace ratio] and E‖μ_t‖² by the pool recursion of
/// <see cref="Expectations"/>.
/// </summary>
public static class GaussianTheory
{
    /// <summary>E[tr Σ_t]/d and E‖μ_t − μ₀‖² at iteration t of a chain, for t = 1..T (index t − 1).</summary>
    public readonly record struct Expectation(double TraceRatio, double SquaredErrorMean);

    /// <summary>
    /// E[trace ratio] and E‖μ_t‖² for iterations 1..<paramref name="iterations"/> of a setting, exactly
    /// (no simulation), with μ₀ = 0, Σ₀ = I. The pool P_t holds every generation so far, N_t = t·n
    /// points; with A_t = Σ_{y∈P_t} y and Q_t = Σ_{y∈P_t} ‖y‖², generation t (n points of
    /// N(μ_{t−1}, Σ_{t−1}), given the past) adds
    /// E Q_t = E Q_{t−1} + n(E tr Σ_{t−1} + E‖μ_{t−1}‖²) and
    /// E‖A_t‖² = E‖A_{t−1}‖²(1 + 2n/N_{t−1}) + n·E tr Σ_{t−1} + n²·E‖μ_{t−1}‖²
    /// (the cross term because E[μ_{t−1} | P_{t−1}] is the pool's mean in both settings). The pool's
    /// biased covariance has E tr S_t = (E Q_t − E‖A_t‖²/N_t)/N_t and its mean E‖ȳ_t‖² = E‖A_t‖²/N_t².
    /// Accumulate fits the pool: tr Σ_t = tr S_t, μ_t = ȳ_t. Accumulate-Subsample fits n points drawn
    /// without replacement: E[Σ_t | P_t] = ((n − 1)/n)·(N_t/(N_t − 1))·S_t and
    /// E‖μ_t‖² = E‖ȳ_t‖² + (N_t − n)/(n(N_t − 1))·E tr S_t (the finite-population correction).
    /// Replace uses the closed forms above.
    /// </summary>
    public static Expectation[] Expectations(Scenarios.Setting setting, int d, int n, int iterations)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "a fit needs at least 2 points");
        var result = new Expectation[iterations];
        if (setting == Scenarios.Setting.Replace)
        {
            for (var t = 1; t <= iterations; t++) result[t - 1] = new(ExpectedTraceRatio(n, t), ExpectedSquaredErrorMean(d, n, t));
            return result;
        }
        double q = 0, a = 0, pool = 0, trace = d, mean = 0;
        for (var t = 1; t <= iterations; t++)
        {
            // Generation t, drawn from the fit of iteration t − 1 (the truth at t = 1).
            a = a * (pool > 0 ? 1 + 2.0 * n / pool : 1) + n * trace + (double)n * n * mean;
            q += n * (trace + mean);
            pool += n;
            var poolTrace = (q - a / pool) / pool;
            var poolMean = a / (pool * pool);
            (trace, mean) = setting == Scenarios.Setting.Accumulate
                ? (poolTrace, poolMean)
                : ((n - 1.0) / n * (pool / (pool - 1)) * poolTrace, poolMean + (pool - n) / (n * (pool - 1)) * poolTrace);
            result[t - 1] = new(trace / d, mean);
        }
        return result;
    }

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
