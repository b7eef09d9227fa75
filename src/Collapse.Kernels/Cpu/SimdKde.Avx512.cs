using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Collapse.Kernels.Cpu;

/// <summary>The one-pass leaf sum of <see cref="SimdKde"/> eight doubles at a time, for CPUs with AVX-512F.</summary>
public static unsafe partial class SimdKde
{
    /// <summary>Σ exp(v_i − shift) for count points of the transposed columns, every v_i known to be ≤ shift + Headroom (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static double LeafSumExp512(double* point, double* columns, int ld, int count, int dim, double scale, double shift)
    {
        var (scaled, shifted, negligible) = (Vector512.Create(scale), Vector512.Create(shift), Vector512.Create(Negligible));
        var (sum0, sum1) = (Vector512<double>.Zero, Vector512<double>.Zero);
        var i = 0;
        for (; i + 16 <= count; i += 16)
        {
            var (squared0, squared1) = (Vector512<double>.Zero, Vector512<double>.Zero);
            for (var j = 0; j < dim; j++)
            {
                var x = Vector512.Create(point[j]);
                var column = columns + (long)j * ld + i;
                var delta0 = x - Vector512.Load(column);
                var delta1 = x - Vector512.Load(column + 8);
                squared0 = Avx512F.FusedMultiplyAdd(delta0, delta0, squared0);
                squared1 = Avx512F.FusedMultiplyAdd(delta1, delta1, squared1);
            }
            var v0 = Avx512F.FusedMultiplySubtract(squared0, scaled, shifted);
            var v1 = Avx512F.FusedMultiplySubtract(squared1, scaled, shifted);
            sum0 += Vector512.BitwiseAnd(Exp(Avx512F.Max(v0, negligible)), Vector512.GreaterThanOrEqual(v0, negligible));
            sum1 += Vector512.BitwiseAnd(Exp(Avx512F.Max(v1, negligible)), Vector512.GreaterThanOrEqual(v1, negligible));
        }
        var total = Vector512.Sum(sum0 + sum1);
        return i < count ? total + LeafSumExp(point, columns + i, ld, count - i, dim, Vector256.Create(scale), shift) : total;
    }

    /// <summary><see cref="Bounds"/> eight leaves at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Bounds512(double* point, in FittedLeaves fitted, double scale, double* bounds)
    {
        var (leaves, dim) = (fitted.LeafCount, fitted.Dim);
        var boxes = fitted.Boxes;
        var scaled = Vector512.Create(scale);
        var b = 0;
        for (; b + 8 <= leaves; b += 8)
        {
            var squared = Vector512<double>.Zero;
            for (var j = 0; j < dim; j++)
            {
                var x = Vector512.Create(point[j]);
                var below = Vector512.Load(boxes + (long)j * leaves + b) - x;
                var above = x - Vector512.Load(boxes + (long)(dim + j) * leaves + b);
                // As in Bounds: vmaxpd returns its second operand on NaN, so a NaN corner (below) keeps the sum NaN.
                var gap = Avx512F.Max(Vector512<double>.Zero, Avx512F.Max(above, below));
                squared = Avx512F.FusedMultiplyAdd(gap, gap, squared);
            }
            (squared * scaled).Store(bounds + b);
        }
        return FinishBounds(point, fitted, scale, bounds, b);
    }

    /// <summary><see cref="Exp(Vector256{double})"/> on eight lanes: the same reduction, Estrin polynomial and exponent bits (the same results lane for lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Exp(Vector512<double> x)
    {
        var k = Avx512F.RoundScale(x * Vector512.Create(1.4426950408889634), 0);
        var r = Avx512F.FusedMultiplyAddNegated(k, Vector512.Create(6.93145751953125E-1), x);
        r = Avx512F.FusedMultiplyAddNegated(k, Vector512.Create(1.42860682030941723212E-6), r);
        var r2 = r * r;
        var r4 = r2 * r2;
        var p01 = r + Vector512<double>.One;
        var p23 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1.0 / 6), Vector512.Create(0.5));
        var p45 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1.0 / 120), Vector512.Create(1.0 / 24));
        var p67 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1.0 / 5040), Vector512.Create(1.0 / 720));
        var p89 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1.0 / 362880), Vector512.Create(1.0 / 40320));
        var p1011 = Avx512F.FusedMultiplyAdd(r, Vector512.Create(1.0 / 39916800), Vector512.Create(1.0 / 3628800));
        var low = Avx512F.FusedMultiplyAdd(p23, r2, p01);
        var middle = Avx512F.FusedMultiplyAdd(p67, r2, p45);
        var high = Avx512F.FusedMultiplyAdd(p1011, r2, p89);
        var p = Avx512F.FusedMultiplyAdd(Avx512F.FusedMultiplyAdd(high, r4, middle), r4, low);
        var biased = (k + Vector512.Create(6755399441055744.0 + 1023)).AsInt64();
        return p * Avx512F.ShiftLeftLogical(biased, 52).AsDouble();
    }
}
