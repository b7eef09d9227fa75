using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// KDE scoring for the CPU path, one replicate per call (AVX2 + FMA). Fitted points are
/// transposed to one array per coordinate; then, for each test point and each chunk of fitted
/// points, one vector pass writes v = −‖t − x‖²/(2h²) to scratch and finds the chunk's max, and a
/// second sums exp(v − max) with a polynomial exp (relative error below 1e-13; .NET's
/// Vector256.Exp cost three times as much). The chunk's (max, sum) merges into the running state
/// exactly as the ILGPU kernel's does. Terms below e^−64 of the chunk's max count as 0 (the
/// polynomial is only valid above it): even 10⁹ of them change a sum ≥ 1 by less than 2·10⁻¹⁹,
/// far below double rounding. (Skipping such blocks with a branch was slower: mispredictions.)
/// </summary>
public static unsafe class SimdKde
{
    /// <summary>Fitted points per chunk: its values stay in L1 between the two passes.</summary>
    public const int Chunk = 1024;

    const double Negligible = -64;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <param name="columns">Scratch for dim · fittedCount doubles.</param>
    /// <param name="values">Scratch for <see cref="Chunk"/> doubles.</param>
    public static void Accumulate(double* test, int testCount, double* fitted, int fittedCount, int dim, double inverseTwoH2,
        double* state, double* columns, double* values)
    {
        for (var i = 0; i < fittedCount; i++)
            for (var j = 0; j < dim; j++) columns[(long)j * fittedCount + i] = fitted[(long)i * dim + j];
        var scale = Vector256.Create(-inverseTwoH2);
        for (var t = 0; t < testCount; t++)
        {
            var point = test + (long)t * dim;
            for (var start = 0; start < fittedCount; start += Chunk)
            {
                var count = Math.Min(Chunk, fittedCount - start);
                var blockMax = Values(point, columns + start, fittedCount, count, dim, scale, values);
                var blockSum = SumExp(values, count, blockMax);
                var max = state[2 * t];
                if (blockMax > max)
                {
                    state[2 * t + 1] = state[2 * t + 1] * Math.Exp(max - blockMax) + blockSum;
                    state[2 * t] = blockMax;
                }
                else state[2 * t + 1] += blockSum * Math.Exp(blockMax - max);
            }
        }
    }

    /// <summary>values[i] = −‖point − x_i‖²/(2h²) for count points of the transposed columns; returns their max.</summary>
    static double Values(double* point, double* columns, int ld, int count, int dim, Vector256<double> scale, double* values)
    {
        var maxVector = Vector256.Create(double.NegativeInfinity);
        var i = 0;
        for (; i + 4 <= count; i += 4)
        {
            var squared = Vector256<double>.Zero;
            for (var j = 0; j < dim; j++)
            {
                var delta = Vector256.Create(point[j]) - Vector256.Load(columns + (long)j * ld + i);
                squared = Fma.MultiplyAdd(delta, delta, squared);
            }
            var v = squared * scale;
            v.Store(values + i);
            maxVector = Avx.Max(maxVector, v);
        }
        var max = Math.Max(Math.Max(maxVector.GetElement(0), maxVector.GetElement(1)), Math.Max(maxVector.GetElement(2), maxVector.GetElement(3)));
        for (; i < count; i++)
        {
            var squared = 0.0;
            for (var j = 0; j < dim; j++)
            {
                var delta = point[j] - columns[(long)j * ld + i];
                squared += delta * delta;
            }
            values[i] = squared * scale.GetElement(0);
            max = Math.Max(max, values[i]);
        }
        return max;
    }

    /// <summary>Σ exp(values[i] − max).</summary>
    static double SumExp(double* values, int count, double max)
    {
        var shift = Vector256.Create(max);
        var negligible = Vector256.Create(Negligible);
        var sum = Vector256<double>.Zero;
        var i = 0;
        for (; i + 4 <= count; i += 4)
        {
            var x = Vector256.Load(values + i) - shift;
            sum += Avx.And(Exp(Avx.Max(x, negligible)), Avx.CompareGreaterThanOrEqual(x, negligible));
        }
        var total = sum.GetElement(0) + sum.GetElement(1) + sum.GetElement(2) + sum.GetElement(3);
        for (; i < count; i++)
            if (values[i] - max >= Negligible) total += Math.Exp(values[i] - max);
        return total;
    }

    /// <summary>
    /// e^x for x in [−64, 0]: x = k·ln 2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln 2), e^r by its
    /// degree-11 Taylor polynomial (error below 1e-15 relative), 2^k built in the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> x)
    {
        var k = Avx.RoundToNearestInteger(x * Vector256.Create(1.4426950408889634));
        var r = Fma.MultiplyAddNegated(k, Vector256.Create(6.93145751953125E-1), x);
        r = Fma.MultiplyAddNegated(k, Vector256.Create(1.42860682030941723212E-6), r);
        var p = Vector256.Create(1.0 / 39916800);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 3628800));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 362880));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 40320));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 5040));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 720));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 120));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 24));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.0 / 6));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(0.5));
        p = Fma.MultiplyAdd(p, r, Vector256<double>.One);
        p = Fma.MultiplyAdd(p, r, Vector256<double>.One);
        // k + 1023 lands in the low mantissa bits of k + 1.5·2^52 + 1023; shifted into the exponent field it is 2^k.
        var biased = (k + Vector256.Create(6755399441055744.0 + 1023)).AsInt64();
        return p * Avx2.ShiftLeftLogical(biased, 52).AsDouble();
    }
}
