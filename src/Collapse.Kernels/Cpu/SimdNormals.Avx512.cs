using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Random;

namespace Collapse.Kernels.Cpu;

// The AVX-512 width of SimdNormals: the same operations as the AVX2 file's, sixteen lanes at a
// time (each 512-bit vector holds both groups of 8 blocks), so both widths give the same bits.
public static partial class SimdNormals
{
    /// <summary>Whether this CPU runs the 512-bit path (AVX-512F, and the JIT accelerates Vector512).</summary>
    public static bool Is512Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <see cref="Generate64"/> with 512-bit vectors: lanes 0–7 are the first group's blocks, lanes
    /// 8–15 the second's, so the lower and upper halves of each output vector go to the two groups.
    /// </summary>
    // Its own compiled method, not inlined into Fill: inside Fill (with the other width's generator) the JIT ran out of
    // inlining budget and called the rounds' multiply, Box–Muller, log and sin/cos as functions (5.3 ns a normal on a Zen 3 core; 2.8 ns as its own method).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Generate64Wide(RandomStream stream, ulong firstBlock, Span<float> output)
    {
        var c0 = Vector512.Create((uint)firstBlock) + Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var c1 = Vector512.Create((uint)(firstBlock >> 32));
        var c2 = Vector512.Create(stream.Iteration);
        var c3 = Vector512.Create(stream.Stream);
        uint k0 = stream.Seed, k1 = stream.Replicate;
        for (var round = 0; round < 10; round++)
        {
            Round(ref c0, ref c1, ref c2, ref c3, Vector512.Create(k0), Vector512.Create(k1));
            k0 += W0;
            k1 += W1;
        }
        BoxMuller(c0, c1, out var z0, out var z1);
        BoxMuller(c2, c3, out var z2, out var z3);
        z0.GetLower().CopyTo(output);
        z1.GetLower().CopyTo(output[8..]);
        z2.GetLower().CopyTo(output[16..]);
        z3.GetLower().CopyTo(output[24..]);
        z0.GetUpper().CopyTo(output[32..]);
        z1.GetUpper().CopyTo(output[40..]);
        z2.GetUpper().CopyTo(output[48..]);
        z3.GetUpper().CopyTo(output[56..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Round(ref Vector512<uint> c0, ref Vector512<uint> c1, ref Vector512<uint> c2, ref Vector512<uint> c3,
        Vector512<uint> k0, Vector512<uint> k1)
    {
        MulHighLow(c0, M0, out var hi0, out var lo0);
        MulHighLow(c2, M1, out var hi1, out var lo1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }

    /// <summary>
    /// The 64-bit product of each lane with m, as high and low words, from two 32×32→64 multiplies
    /// (even lanes, then odd lanes shifted down). The low words could come from one 32-bit lane
    /// multiply instead (vpmulld), but on Intel's cores that is two micro-ops with 10 cycles of
    /// latency, twice vpmuludq's, on the rounds' critical path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MulHighLow(Vector512<uint> a, uint m, out Vector512<uint> high, out Vector512<uint> low)
    {
        var multiplier = Vector512.Create((ulong)m).AsUInt32();
        var even = Avx512F.Multiply(a, multiplier);
        var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), multiplier);
        var highHalves = Vector512.Create(0xFFFF_FFFF_0000_0000UL);
        high = ((even >> 32) | (odd & highHalves)).AsUInt32();
        low = ((even & ~highHalves) | (odd << 32)).AsUInt32();
    }

    /// <summary><see cref="Philox.BoxMuller"/> on sixteen lanes, operation for operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void BoxMuller(Vector512<uint> a, Vector512<uint> b, out Vector512<float> z0, out Vector512<float> z1)
    {
        var scale = Vector512.Create(1.0f / 16777216.0f);
        var u1 = Vector512.ConvertToSingle(((a >> 8) + Vector512<uint>.One).AsInt32()) * scale;
        var u2 = Vector512.ConvertToSingle((b >> 8).AsInt32()) * scale;
        var radius = Vector512.Sqrt(Vector512.Create(-2.0f) * LogUnit(u1));
        SinCosTurns(u2, out var sin, out var cos);
        z0 = radius * cos;
        z1 = radius * sin;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    /// <summary><see cref="Philox.LogUnit"/> on sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> LogUnit(Vector512<float> x)
    {
        var bits = x.AsUInt32();
        var e = Vector512.ConvertToSingle((bits >> 23).AsInt32() - Vector512.Create(126));
        var m = ((bits & Vector512.Create(0x007FFFFFu)) | Vector512.Create(0x3F000000u)).AsSingle();
        var small = Vector512.LessThan(m, Vector512.Create(0.707106781186547524f));
        var one = Vector512.Create(1.0f);
        e = Vector512.ConditionalSelect(small, e - one, e);
        m = Vector512.ConditionalSelect(small, m + m - one, m - one);
        var z = m * m;
        var p = Fma(Vector512.Create(Philox.Log0), m, Vector512.Create(Philox.Log1));
        p = Fma(p, m, Vector512.Create(Philox.Log2));
        p = Fma(p, m, Vector512.Create(Philox.Log3));
        p = Fma(p, m, Vector512.Create(Philox.Log4));
        p = Fma(p, m, Vector512.Create(Philox.Log5));
        p = Fma(p, m, Vector512.Create(Philox.Log6));
        p = Fma(p, m, Vector512.Create(Philox.Log7));
        p = Fma(p, m, Vector512.Create(Philox.Log8));
        var y = p * m * z;
        y = Fma(Vector512.Create(Philox.LogLow), e, y);
        y = Fma(Vector512.Create(-0.5f), z, y);
        return Fma(Vector512.Create(Philox.LogHigh), e, m + y);
    }

    /// <summary><see cref="Philox.SinCosTurns"/> on sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SinCosTurns(Vector512<float> u, out Vector512<float> sin, out Vector512<float> cos)
    {
        var q = Vector512.Floor(u * Vector512.Create(4.0f) + Vector512.Create(0.5f));
        var a = (u - q * Vector512.Create(0.25f)) * Vector512.Create(Philox.TwoPi);
        var z = a * a;
        var s = Fma(Fma(Vector512.Create(Philox.Sin0), z, Vector512.Create(Philox.Sin1)), z, Vector512.Create(Philox.Sin2));
        s = Fma(s * z, a, a);
        var c = Fma(Fma(Vector512.Create(Philox.Cos0), z, Vector512.Create(Philox.Cos1)), z, Vector512.Create(Philox.Cos2));
        c = Fma(c * z, z, Fma(Vector512.Create(-0.5f), z, Vector512.Create(1.0f)));
        var quadrant = Vector512.ConvertToInt32(q) & Vector512.Create(3);
        var swap = Vector512.Equals(quadrant & Vector512<int>.One, Vector512<int>.One).AsSingle();
        var sinValue = Vector512.ConditionalSelect(swap, c, s);
        var cosValue = Vector512.ConditionalSelect(swap, s, c);
        var two = Vector512.Create(2);
        var negateSin = Vector512.Equals(quadrant & two, two).AsSingle();
        var negateCos = Vector512.Equals((quadrant + Vector512<int>.One) & two, two).AsSingle();
        sin = Vector512.ConditionalSelect(negateSin, -sinValue, sinValue);
        cos = Vector512.ConditionalSelect(negateCos, -cosValue, cosValue);
    }
}
