namespace Collapse.Tests.Reference;

/// <summary>The regression reference's own checks: its least squares against closed forms, its loop against exact fits.</summary>
public class ReferenceRegressionTests
{
    [Fact]
    public void Min_norm_least_squares_matches_closed_forms()
    {
        // Tall, full rank: the unique least-squares fit of a line through (0, 1), (1, 2), (2, 4): 5/6 + 3/2·x.
        AssertClose([5.0 / 6, 3.0 / 2], ReferenceRegression.MinNormLeastSquares(new double[,] { { 1, 0 }, { 1, 1 }, { 1, 2 } }, [1, 2, 4]), 1e-12);
        // Wide, full row rank: x = aᵀ(a aᵀ)⁻¹b; for a = [1 1] and b = 2 that is (1, 1).
        AssertClose([1.0, 1.0], ReferenceRegression.MinNormLeastSquares(new double[,] { { 1, 1 } }, [2]), 1e-12);
        // Rank one, a = u vᵀ with u = (1, 2), v = (1, 2): a⁺ = v uᵀ/(‖u‖²‖v‖²), so a⁺(1, 0) = (1, 2)/25.
        AssertClose([1.0 / 25, 2.0 / 25], ReferenceRegression.MinNormLeastSquares(new double[,] { { 1, 2 }, { 2, 4 } }, [1, 0]), 1e-12);
        // Rank one in 3-D, one row twice with labels 1 and 3: least squares asks x + y = 2 (their mean),
        // and the shortest such vector is (1, 1, 0).
        AssertClose([1.0, 1.0, 0.0], ReferenceRegression.MinNormLeastSquares(new double[,] { { 1, 1, 0 }, { 1, 1, 0 } }, [1, 3]), 1e-12);
    }

    [Fact]
    public void A_random_rank_deficient_fit_solves_the_normal_equations_inside_the_row_space()
    {
        // a = B C with B 6×2 and C 2×4: rank 2, null space the vectors C sends to 0.
        var random = new System.Random(7);
        var (b, c) = (new double[6, 2], new double[2, 4]);
        for (var i = 0; i < 6; i++) for (var k = 0; k < 2; k++) b[i, k] = random.NextDouble() - 0.5;
        for (var k = 0; k < 2; k++) for (var j = 0; j < 4; j++) c[k, j] = random.NextDouble() - 0.5;
        var a = new double[6, 4];
        for (var i = 0; i < 6; i++) for (var j = 0; j < 4; j++) for (var k = 0; k < 2; k++) a[i, j] += b[i, k] * c[k, j];
        var y = Enumerable.Range(0, 6).Select(_ => random.NextDouble()).ToArray();
        var x = ReferenceRegression.MinNormLeastSquares(a, y);
        var residual = ReferenceRegression.Multiply(a, x).Zip(y, (p, q) => p - q).ToArray();
        for (var j = 0; j < 4; j++)
            Assert.Equal(0, Enumerable.Range(0, 6).Sum(i => a[i, j] * residual[i]), 1e-12);
        // In the row space = the span of C's rows: x = Cᵀλ, so x is orthogonal to every null vector of C.
        var (c0, c1) = (Enumerable.Range(0, 4).Select(j => c[0, j]).ToArray(), Enumerable.Range(0, 4).Select(j => c[1, j]).ToArray());
        var null1 = Cross3Complement(c0, c1, 3);
        var null2 = Cross3Complement(c0, c1, 2);
        Assert.Equal(0, x.Zip(null1, (p, q) => p * q).Sum(), 1e-12);
        Assert.Equal(0, x.Zip(null2, (p, q) => p * q).Sum(), 1e-12);
    }

    /// <summary>
    /// Every label is x·w* then, so a fit recovers w* wherever its design has rank d: always for Replace
    /// and Accumulate; for Accumulate-Subsample while its n draws from t copies of n rows must hit at
    /// least ⌈n/t⌉ ≥ d distinct rows (d = 3, n = 10, t ≤ 3), otherwise at t = 1 alone.
    /// </summary>
    [Theory]
    [InlineData(3, 10, 3)]
    [InlineData(4, 4, 1)]
    public void Without_noise_a_full_rank_design_is_fitted_exactly(int d, int n, int subsampleIterations)
    {
        foreach (var setting in Settings.All)
        {
            var chain = ReferenceRegression.Run(setting, d, n, 0, setting == Setting.AccumulateSubsample ? subsampleIterations : 3, seed: 11, testSize: 50);
            Assert.All(chain.WeightError, e => Assert.True(e < 1e-20, $"{setting}: ‖ŵ − w*‖² = {e}"));
            Assert.All(chain.TestMse, e => Assert.True(e < 1e-20, $"{setting}: test MSE = {e}"));
        }
    }

    /// <summary>
    /// A vector of the 2-D null space of the 2×4 matrix [c0; c1], with coordinate <paramref name="free"/> set
    /// to 1 and the other of the last two to 0, the first two solved by Cramer's rule.
    /// </summary>
    static double[] Cross3Complement(double[] c0, double[] c1, int free)
    {
        var v = new double[4];
        v[free] = 1;
        // c[0]·v0 + c[1]·v1 = −c[free] for both rows.
        var det = c0[0] * c1[1] - c0[1] * c1[0];
        v[0] = (-c0[free] * c1[1] + c0[1] * c1[free]) / det;
        v[1] = (-c0[0] * c1[free] + c0[free] * c1[0]) / det;
        return v;
    }

    static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }
}
