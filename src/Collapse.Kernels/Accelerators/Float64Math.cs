using System.Runtime.CompilerServices;
using ILGPU;

namespace Collapse.Kernels.Accelerators;

/// <summary>
/// Float64 e^x and ln x in plain arithmetic (multiply-adds, one division, bit moves), so a GPU runs
/// them at the speed of its float64 units. ILGPU 1.5.3 compiles <c>Math.Exp</c>/<c>Math.Log</c> on
/// double for PTX to a CORDIC loop in software (hyperbolic rotations, dozens of dependent steps per
/// call); these replace it on the GPU backends through <see cref="KernelMath.Exp"/> and
/// <see cref="KernelMath.Log"/>. Both handle every input as <c>Math</c> does: NaN stays NaN, e^x
/// underflows to 0 below −745.13 (through the subnormals, rounded once) and overflows to +∞ above
/// 709.78; ln 0 = −∞, ln of a negative number is NaN, ln +∞ = +∞, subnormals are exact inputs.
/// Accuracy against glibc's correctly rounded results is tested over the kernels' ranges (see
/// <c>Float64MathTests</c>: within 1 ulp).
/// </summary>
public static class Float64Math
{
    // ln 2 split so that k·Ln2High is exact for |k| < 2^38 (Ln2High has 15 significant bits): the
    // reduction x − k·ln 2 loses nothing to cancellation (Cody and Waite).
    const double Ln2High = 0.693145751953125, Ln2Low = 1.42860682030941723212E-6;
    const double Log2E = 1.4426950408889634;
    // Adding 1.5·2^52 rounds to an integer in the low mantissa bits (round to nearest even).
    const double RoundingShift = 6755399441055744.0;
    // Beyond these e^x is +∞, or below half the least subnormal, 0; between them and the exact
    // thresholds (709.7827…, −745.1332…) the scaling by 2^k overflows or underflows by itself.
    const double ExpOverflow = 709.79, ExpUnderflow = -746.0;
    const double Sqrt2 = 1.4142135623730951;
    // 2^54, to bring a subnormal into the normal range before its exponent is read.
    const double TwoTo54 = 18014398509481984.0;

    /// <summary>e^x: x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its degree-13 Taylor polynomial (truncation below 10⁻¹⁷), times 2^k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x)
    {
        if (!(x <= ExpOverflow)) return double.IsNaN(x) ? x : double.PositiveInfinity;
        if (x < ExpUnderflow) return 0.0;
        var shifted = x * Log2E + RoundingShift;
        var k = (int)(long)Interop.FloatAsInt(shifted); // the low word holds round(x / ln 2) in two's complement
        var kd = shifted - RoundingShift;
        var r = KernelMath.Fma(-kd, Ln2High, x);
        r = KernelMath.Fma(-kd, Ln2Low, r);
        var p = 1.0 / 6227020800; // 1/13!
        p = KernelMath.Fma(p, r, 1.0 / 479001600);
        p = KernelMath.Fma(p, r, 1.0 / 39916800);
        p = KernelMath.Fma(p, r, 1.0 / 3628800);
        p = KernelMath.Fma(p, r, 1.0 / 362880);
        p = KernelMath.Fma(p, r, 1.0 / 40320);
        p = KernelMath.Fma(p, r, 1.0 / 5040);
        p = KernelMath.Fma(p, r, 1.0 / 720);
        p = KernelMath.Fma(p, r, 1.0 / 120);
        p = KernelMath.Fma(p, r, 1.0 / 24);
        p = KernelMath.Fma(p, r, 1.0 / 6);
        p = KernelMath.Fma(p, r, 0.5);
        p = KernelMath.Fma(p, r, 1.0);
        p = KernelMath.Fma(p, r, 1.0);
        // 2^k in two normal halves (k runs from −1075 to 1024): the first product is exact, the
        // second rounds once, into the subnormals when the result is there.
        var half = k >> 1;
        return p * PowerOfTwo(half) * PowerOfTwo(k - half);
    }

    /// <summary>
    /// ln x: x = m·2^e with m in (√½, √2], f = m − 1, and ln(1 + f) = f − f²/2 + s·(f²/2 + R(s²))
    /// with s = f / (2 + f) and R the atanh series 2s²/3 + 2s⁴/5 + … to s²², then e·ln 2 added in two parts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x)
    {
        if (!(x > 0.0)) return x == 0.0 ? double.NegativeInfinity : double.NaN;
        if (x == double.PositiveInfinity) return x;
        var offset = 0;
        if (x < 2.2250738585072014E-308) // a subnormal: scale it up exactly
        {
            x *= TwoTo54;
            offset = 54;
        }
        var bits = Interop.FloatAsInt(x);
        var e = (int)(bits >> 52) - 1023 - offset;
        var m = Interop.IntAsFloat((bits & 0x000F_FFFF_FFFF_FFFFUL) | 0x3FF0_0000_0000_0000UL);
        if (m > Sqrt2)
        {
            m *= 0.5;
            e++;
        }
        var f = m - 1.0; // exact: m is within a factor 2 of 1
        var s = f / (2.0 + f);
        var z = s * s;
        var series = 2.0 / 23;
        series = KernelMath.Fma(series, z, 2.0 / 21);
        series = KernelMath.Fma(series, z, 2.0 / 19);
        series = KernelMath.Fma(series, z, 2.0 / 17);
        series = KernelMath.Fma(series, z, 2.0 / 15);
        series = KernelMath.Fma(series, z, 2.0 / 13);
        series = KernelMath.Fma(series, z, 2.0 / 11);
        series = KernelMath.Fma(series, z, 2.0 / 9);
        series = KernelMath.Fma(series, z, 2.0 / 7);
        series = KernelMath.Fma(series, z, 2.0 / 5);
        series = KernelMath.Fma(series, z, 2.0 / 3);
        var halfSquare = 0.5 * f * f;
        double ed = e;
        var low = KernelMath.Fma(s, halfSquare + z * series, ed * Ln2Low);
        return ed * Ln2High - ((halfSquare - low) - f);
    }

    /// <summary>2^n for n in the normal range −1022..1023, built in the exponent field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static double PowerOfTwo(int n) => Interop.IntAsFloat((ulong)(n + 1023) << 52);
}
