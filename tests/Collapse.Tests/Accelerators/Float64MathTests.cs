namespace Collapse.Tests.Accelerators;

/// <summary>
/// The GPU backends' float64 e^x and ln x (<see cref="Float64Math"/>) against the runtime's
/// (glibc's, correctly rounded in all but rare cases) over the ranges the kernels see and beyond:
/// within 1 ulp everywhere, the same special values, the same underflow and overflow.
/// </summary>
public class Float64MathTests
{
    /// <summary>Units in the last place between two finite doubles of the same sign (0 when equal).</summary>
    static long Ulps(double a, double b)
    {
        if (a == b) return 0;
        if (double.IsNaN(a) || double.IsNaN(b) || Math.Sign(a) != Math.Sign(b)) return long.MaxValue;
        return Math.Abs(BitConverter.DoubleToInt64Bits(a) - BitConverter.DoubleToInt64Bits(b));
    }

    static double Uniform(RandomStream stream, ulong i)
    {
        var b = stream.Block(i);
        return Philox.UniformDouble(b.X, b.Y);
    }

    static void AssertWithin(string name, IEnumerable<double> inputs, Func<double, double> mine, Func<double, double> reference, long bound)
    {
        var (worst, at, count) = (0L, 0.0, 0);
        foreach (var x in inputs)
        {
            var ulps = Ulps(mine(x), reference(x));
            if (ulps > worst) (worst, at) = (ulps, x);
            count++;
        }
        Assert.True(worst <= bound, $"{name}: {worst} ulp at x = {at:R} ({mine(at):R} vs {reference(at):R}) over {count:N0} inputs");
    }

    [Fact]
    public void Exp_is_within_one_ulp_over_the_kde_and_sampler_ranges_and_the_whole_finite_range()
    {
        var stream = new RandomStream(1, 0, 0, 77);
        // KDE: v − max from 0 down to −10⁵ (h = 0.1 and spread data); the sampler: logits − max over a temperature.
        var kde = Enumerable.Range(0, 200_000).Select(i => -Math.Pow(10, 5 * Uniform(stream, (ulong)i) + 0.0) + 1.0);
        var near = Enumerable.Range(0, 100_000).Select(i => 2 * Uniform(stream, 1_000_000 + (ulong)i) - 1);
        var whole = Enumerable.Range(0, 200_000).Select(i => -746 + 1456 * Uniform(stream, 2_000_000 + (ulong)i));
        AssertWithin("exp (KDE range)", kde, Float64Math.Exp, Math.Exp, 1);
        AssertWithin("exp [−1, 1]", near, Float64Math.Exp, Math.Exp, 1);
        AssertWithin("exp [−746, 710]", whole, Float64Math.Exp, Math.Exp, 1);
    }

    [Fact]
    public void Exp_has_the_runtimes_special_values_underflow_and_overflow()
    {
        double[] special = [0.0, -0.0, 1.0, -1.0, double.Epsilon, -double.Epsilon, 1e-300, -1e-300, 709.78, 709.782712893383, 709.7827128933841,
            709.79, 710, 1000, double.MaxValue, double.PositiveInfinity, -708.39, -708.4, -744.44, -745.13, -745.1332191019411, -745.1332191019412,
            -745.14, -746, -1e5, double.MinValue, double.NegativeInfinity];
        foreach (var x in special)
            Assert.True(Ulps(Float64Math.Exp(x), Math.Exp(x)) <= 1, $"exp({x:R}) = {Float64Math.Exp(x):R}, runtime {Math.Exp(x):R}");
        Assert.True(double.IsNaN(Float64Math.Exp(double.NaN)));
        Assert.Equal(0.0, Float64Math.Exp(-800));
        Assert.Equal(double.PositiveInfinity, Float64Math.Exp(710));
        Assert.Equal(1.0, Float64Math.Exp(0.0));
        // Through the subnormals: e^x for x in (−745.13, −708.4) is rounded once, as the runtime's.
        var stream = new RandomStream(1, 0, 0, 78);
        AssertWithin("exp subnormal", Enumerable.Range(0, 50_000).Select(i => -745.1 + 36.7 * Uniform(stream, (ulong)i)), Float64Math.Exp, Math.Exp, 1);
    }

    [Fact]
    public void Log_is_within_one_ulp_from_the_subnormals_to_the_largest_double()
    {
        var stream = new RandomStream(1, 0, 0, 79);
        // Every binade: a random mantissa and a random exponent, subnormals included.
        var everywhere = Enumerable.Range(0, 300_000).Select(i =>
        {
            var bits = ((ulong)stream.Block((ulong)i).X << 32 | stream.Block((ulong)i).Y) & 0x7FEF_FFFF_FFFF_FFFFUL;
            return BitConverter.Int64BitsToDouble((long)bits);
        }).Where(x => x > 0);
        // Near 1, where ln x is small and cancellation would show: the Wishart's log(χ²/n) and its acceptance test.
        var nearOne = Enumerable.Range(0, 200_000).Select(i => 0.5 + 1.5 * Uniform(stream, 1_000_000 + (ulong)i));
        var uniforms = Enumerable.Range(0, 100_000).Select(i => Uniform(stream, 2_000_000 + (ulong)i)).Where(u => u > 0);
        AssertWithin("log (every binade)", everywhere, Float64Math.Log, Math.Log, 1);
        AssertWithin("log [0.5, 2]", nearOne, Float64Math.Log, Math.Log, 1);
        AssertWithin("log (0, 1)", uniforms, Float64Math.Log, Math.Log, 1);
    }

    [Fact]
    public void Log_has_the_runtimes_special_values()
    {
        double[] exact = [1.0, 2.0, 0.5, Math.E, 10, double.Epsilon, 2.2250738585072014E-308, 2.2250738585072009E-308, double.MaxValue,
            1 + 1e-15, 1 - 1e-16, Math.Sqrt(2), Math.Sqrt(2) * (1 + 2.2e-16)];
        foreach (var x in exact)
            Assert.True(Ulps(Float64Math.Log(x), Math.Log(x)) <= 1, $"log({x:R}) = {Float64Math.Log(x):R}, runtime {Math.Log(x):R}");
        Assert.Equal(0.0, Float64Math.Log(1.0));
        Assert.Equal(double.NegativeInfinity, Float64Math.Log(0.0));
        Assert.Equal(double.NegativeInfinity, Float64Math.Log(-0.0));
        Assert.Equal(double.PositiveInfinity, Float64Math.Log(double.PositiveInfinity));
        Assert.True(double.IsNaN(Float64Math.Log(-1.0)));
        Assert.True(double.IsNaN(Float64Math.Log(double.NegativeInfinity)));
        Assert.True(double.IsNaN(Float64Math.Log(double.NaN)));
    }
}
