namespace Collapse.Engine.Families;

/// <summary>
/// Exact expectations in the linear-regression setting (docs/DESIGN.md, section E; after
/// Gerstgrasser et al. 2024), no simulation. One design X (n × d, standard normal) is reused by every
/// generation, w* ~ N(0, I_d), and each fit is the minimum-norm least-squares solution X⁺y. With
/// P = X⁺X (the projection on X's row space) and ŵ₀ = w*, Replace gives ŵ_t = P ŵ_{t−1} + σX⁺ε_t and
/// Accumulate ŵ_t = ŵ_{t−1} + σX⁺ε_t / t (after ŵ₁ = Pw* + σX⁺ε₁), so
/// E‖ŵ_t − w*‖² = max(d − n, 0) + σ²·m(d, n)·c_t with c_t = t (Replace) or Σ_{k≤t} 1/k² (Accumulate),
/// where m(d, n) = E tr((XᵀX)⁻¹) = d/(n − d − 1) for n &gt; d + 1 and E tr((XXᵀ)⁻¹) = n/(d − n − 1) for
/// n &lt; d − 1 (inverse-Wishart means); it is infinite for n ∈ {d − 1, d, d + 1}. The test MSE against
/// noiseless labels on fresh standard-normal points has the same expectation (E xxᵀ = I).
/// Accumulate-Subsample is known exactly at t = 1 (Replace's) and, for σ² = 0, while every earlier
/// subsample surely spans X's row space (a bias counted from the subsample's distinct rows, see
/// <see cref="SubsampleBiasWithoutNoise"/>); elsewhere no closed form is known and the value is NaN.
/// </summary>
public static class RegressionTheory
{
    /// <summary>
    /// E[test MSE] = E‖ŵ_t − w*‖² at iterations 1..<paramref name="iterations"/> (index t − 1); +∞ where
    /// the expectation diverges, NaN where it is not known in closed form (<see cref="IsKnown"/>).
    /// </summary>
    public static double[] ExpectedTestMse(Setting setting, int d, int n, double sigmaSquared, int iterations)
    {
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "a dimension is at least 1");
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "a fit needs at least 1 labelled point");
        if (!(sigmaSquared >= 0) || !double.IsFinite(sigmaSquared)) throw new ArgumentOutOfRangeException(nameof(sigmaSquared), sigmaSquared, "σ² is a finite number ≥ 0");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "at least 1 iteration");
        var result = new double[iterations];
        var bias = Bias(d, n);
        var inverseSquares = 0.0;
        for (var t = 1; t <= iterations; t++)
        {
            inverseSquares += 1.0 / ((double)t * t);
            result[t - 1] = setting switch
            {
                Setting.Replace => bias + Noise(sigmaSquared, d, n, t),
                Setting.Accumulate => bias + Noise(sigmaSquared, d, n, inverseSquares),
                // At t = 1 the subsample is the whole pool, the real data: Replace's first fit.
                _ when t == 1 => bias + Noise(sigmaSquared, d, n, 1),
                _ when sigmaSquared == 0 && EarlierSubsamplesSpan(d, n, t) => SubsampleBiasWithoutNoise(d, n, t),
                _ => double.NaN,
            };
        }
        return result;
    }

    /// <summary>Whether <see cref="ExpectedTestMse"/> has an exact value (possibly +∞) at iteration t.</summary>
    public static bool IsKnown(Setting setting, int d, int n, double sigmaSquared, int iteration) =>
        setting != Setting.AccumulateSubsample || iteration == 1 || (sigmaSquared == 0 && EarlierSubsamplesSpan(d, n, iteration));

    /// <summary>E‖(I − P)w*‖² = E tr(I − P) = d − rank X = max(d − n, 0): the part of w* no label ever sees.</summary>
    public static double Bias(int d, int n) => Math.Max(d - n, 0);

    /// <summary>
    /// E tr(X⁺X⁺ᵀ) for an n × d standard normal X: E tr((XᵀX)⁻¹) = d/(n − d − 1) when n &gt; d + 1
    /// (XᵀX is Wishart(n, I_d)), E tr((XXᵀ)⁻¹) = n/(d − n − 1) when n &lt; d − 1 (XXᵀ is Wishart(d, I_n)),
    /// +∞ otherwise (the inverse-Wishart mean needs degrees of freedom above dimension + 1).
    /// </summary>
    public static double InversePseudoGramTrace(int d, int n)
    {
        var gap = Math.Abs(n - d);
        return gap > 1 ? (double)Math.Min(n, d) / (gap - 1) : double.PositiveInfinity;
    }

    /// <summary>
    /// Accumulate-Subsample with σ² = 0, where <see cref="EarlierSubsamplesSpan"/>: every label in the
    /// pool is x·w* (ŵ₁ = Pw*, XP = X, and each earlier fit was Pw* again), so the subsample's fit is
    /// P_S w* with P_S the projection on the span of its K distinct rows of X, and
    /// E‖ŵ_t − w*‖² = E max(d − K, 0): K counts the rows of X the n draws (without replacement, from t
    /// copies of each of the n rows) hit. The distribution of K by the draw-by-draw chain on
    /// (draws made, rows hit): after m draws hitting k rows, the next hits a new row with probability
    /// (n − k)·t/(t·n − m). States k ≥ d are lumped (their bias is 0). Elsewhere this is not the
    /// expectation: once a subsample has missed part of the row space, its fit relabels X with a
    /// different ŵ and the pool is no longer consistent.
    /// </summary>
    public static double SubsampleBiasWithoutNoise(int d, int n, int iteration)
    {
        var cap = Math.Min(n, d);
        var p = new double[cap + 1];
        p[0] = 1;
        double pool = (double)iteration * n;
        for (var m = 0; m < n; m++)
        {
            // Iterate k downwards so each draw moves probability mass at most one step, once.
            for (var k = Math.Min(m, cap); k >= 0; k--)
            {
                if (p[k] == 0 || k == cap) continue;
                var fresh = (double)(n - k) * iteration / (pool - m);
                p[k + 1] += p[k] * fresh;
                p[k] *= 1 - fresh;
            }
        }
        var expected = 0.0;
        for (var k = 0; k <= cap; k++) expected += p[k] * Math.Max(d - k, 0);
        return expected;
    }

    /// <summary>
    /// Whether the subsamples of iterations 2..t − 1 surely span X's row space (rank min(n, d)), so that
    /// with σ² = 0 every fit before t was Pw* and the pool's labels all read x·w*: n draws from s copies
    /// of n rows hit at least ⌈n/s⌉ distinct rows, fewest at s = t − 1. Always at t ≤ 2.
    /// </summary>
    public static bool EarlierSubsamplesSpan(int d, int n, int iteration) =>
        iteration <= 2 || (n + iteration - 2) / (iteration - 1) >= Math.Min(n, d);

    static double Noise(double sigmaSquared, int d, int n, double factor) =>
        // σ² = 0 is noiseless whatever the design, even where the noise's moment diverges (0·∞ is 0 here).
        sigmaSquared == 0 ? 0 : sigmaSquared * InversePseudoGramTrace(d, n) * factor;
}
