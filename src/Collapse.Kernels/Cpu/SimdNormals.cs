using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Random;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// Philox4x32-10 and Box–Muller on sixteen counters at a time, as two interleaved 8-lane chains
/// (AVX2) or one 16-lane chain (AVX-512, this file's partner): the CPU path's standard normals,
/// bit for bit the function of (stream, index) that <see cref="Philox.Normal"/> defines (the same
/// operations in the same order, FMAs explicit), whatever the width, the lane or where a fill
/// starts. The width is chosen at run time; on a 2-core AMD EPYC (Zen 4) the 512-bit path draws
/// a normal in 1.25 ns against 1.59 ns for AVX2 (measured before the generators became their own methods).
/// </summary>
public static partial class SimdNormals
{
    public static bool IsSupported => Avx2.IsSupported;

    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Writes normals number start, start+1, … of the stream into destination (512-bit vectors where the CPU has them).</summary>
    public static void Fill(RandomStream stream, ulong start, Span<float> destination) => Fill(stream, start, destination, Is512Supported);

    /// <summary><see cref="Fill(RandomStream, ulong, Span{float})"/> at a chosen width (tests run both; the bits are the same).</summary>
    internal static void Fill(RandomStream stream, ulong start, Span<float> destination, bool wide)
    {
        Span<float> pair = stackalloc float[64];
        var written = 0;
        var skip = (int)(start & 63);
        for (var g = start >> 6; written < destination.Length; g++, skip = 0)
        {
            if (wide) Generate64Wide(stream, g << 4, pair);
            else Generate64(stream, g << 4, pair);
            var take = Math.Min(64 - skip, destination.Length - written);
            pair.Slice(skip, take).CopyTo(destination.Slice(written));
            written += take;
        }
    }

    /// <summary>
    /// Normals number 0 … rows·columns − 1 of the stream, widened to double, as rows of
    /// <paramref name="columns"/> at a stride of <paramref name="stride"/> doubles (what lies
    /// between rows is left as it is): row p holds normals p·columns … p·columns + columns − 1.
    /// </summary>
    public static unsafe void FillRows(RandomStream stream, int rows, int columns, int stride, double* destination)
    {
        var count = (long)rows * columns;
        var floats = ThreadScratch.FloatPointer(count);
        Fill(stream, 0, new Span<float>(floats, (int)count));
        for (var p = 0; p < rows; p++)
        {
            var source = floats + (long)p * columns;
            var target = destination + (long)p * stride;
            var j = 0;
            for (; j + 8 <= columns; j += 8)
            {
                var (low, high) = Vector256.Widen(Vector256.Load(source + j));
                low.Store(target + j);
                high.Store(target + j + 4);
            }
            for (; j < columns; j++) target[j] = source[j];
        }
    }

    /// <summary>The same normals as <see cref="Fill(RandomStream, ulong, Span{float})"/>, widened to double.</summary>
    public static void Fill(RandomStream stream, ulong start, Span<double> destination)
    {
        Span<float> chunk = stackalloc float[256];
        for (var done = 0; done < destination.Length; done += chunk.Length)
        {
            var part = chunk[..Math.Min(chunk.Length, destination.Length - done)];
            Fill(stream, start + (ulong)done, part);
            var i = 0;
            for (; i + 8 <= part.Length; i += 8)
            {
                var (low, high) = Vector256.Widen(Vector256.Create<float>(part[i..]));
                low.CopyTo(destination[(done + i)..]);
                high.CopyTo(destination[(done + i + 4)..]);
            }
            for (; i < part.Length; i++) destination[done + i] = part[i];
        }
    }

    /// <summary>
    /// The 64 normals of blocks firstBlock … firstBlock + 15 (two groups of 8, in <see cref="Philox.Normal"/>'s
    /// order). The two groups' Philox rounds are interleaved: each round is a chain of dependent
    /// multiplies, and one chain alone leaves the multipliers idle most of the time.
    /// </summary>
    // Its own compiled method, not inlined into Fill: inside Fill (with the other width's generator) the JIT ran out of
    // inlining budget and called the rounds' multiply, Box–Muller, log and sin/cos as functions (5.3 ns a normal on a Zen 3 core; 2.8 ns as its own method).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Generate64(RandomStream stream, ulong firstBlock, Span<float> output)
    {
        // firstBlock is a multiple of 16, so its 16 blocks never cross a 2^32 boundary of the low word.
        var a0 = Vector256.Create((uint)firstBlock) + Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        var b0 = a0 + Vector256.Create(8u);
        var a1 = Vector256.Create((uint)(firstBlock >> 32));
        var b1 = a1;
        var a2 = Vector256.Create(stream.Iteration);
        var b2 = a2;
        var a3 = Vector256.Create(stream.Stream);
        var b3 = a3;
        uint k0 = stream.Seed, k1 = stream.Replicate;
        for (var round = 0; round < 10; round++)
        {
            var key0 = Vector256.Create(k0);
            var key1 = Vector256.Create(k1);
            Round(ref a0, ref a1, ref a2, ref a3, key0, key1);
            Round(ref b0, ref b1, ref b2, ref b3, key0, key1);
            k0 += W0;
            k1 += W1;
        }
        Store(a0, a1, a2, a3, output);
        Store(b0, b1, b2, b3, output[32..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Round(ref Vector256<uint> c0, ref Vector256<uint> c1, ref Vector256<uint> c2, ref Vector256<uint> c3,
        Vector256<uint> k0, Vector256<uint> k1)
    {
        MulHighLow(c0, M0, out var hi0, out var lo0);
        MulHighLow(c2, M1, out var hi1, out var lo1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector256<uint> c0, Vector256<uint> c1, Vector256<uint> c2, Vector256<uint> c3, Span<float> output)
    {
        BoxMuller(c0, c1, out var z0, out var z1);
        BoxMuller(c2, c3, out var z2, out var z3);
        z0.CopyTo(output);
        z1.CopyTo(output[8..]);
        z2.CopyTo(output[16..]);
        z3.CopyTo(output[24..]);
    }

    /// <summary>
    /// The 64-bit product of each lane with m, as high and low words, from two 32×32→64 multiplies
    /// (even lanes, then odd lanes shifted down). The low words could come from one 32-bit lane
    /// multiply instead (vpmulld), but on Intel's cores that is two micro-ops with 10 cycles of
    /// latency, twice vpmuludq's, on the rounds' critical path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MulHighLow(Vector256<uint> a, uint m, out Vector256<uint> high, out Vector256<uint> low)
    {
        var multiplier = Vector256.Create((ulong)m).AsUInt32();
        var even = Avx2.Multiply(a, multiplier);
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), multiplier);
        var highHalves = Vector256.Create(0xFFFF_FFFF_0000_0000UL);
        high = ((even >> 32) | (odd & highHalves)).AsUInt32();
        low = ((even & ~highHalves) | (odd << 32)).AsUInt32();
    }

    /// <summary><see cref="Philox.BoxMuller"/> on eight lanes, operation for operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void BoxMuller(Vector256<uint> a, Vector256<uint> b, out Vector256<float> z0, out Vector256<float> z1)
    {
        var scale = Vector256.Create(1.0f / 16777216.0f);
        var u1 = Vector256.ConvertToSingle(((a >> 8) + Vector256<uint>.One).AsInt32()) * scale;
        var u2 = Vector256.ConvertToSingle((b >> 8).AsInt32()) * scale;
        var radius = Vector256.Sqrt(Vector256.Create(-2.0f) * LogUnit(u1));
        SinCosTurns(u2, out var sin, out var cos);
        z0 = radius * cos;
        z1 = radius * sin;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary><see cref="Philox.LogUnit"/> on eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> LogUnit(Vector256<float> x)
    {
        var bits = x.AsUInt32();
        var e = Vector256.ConvertToSingle((bits >> 23).AsInt32() - Vector256.Create(126));
        var m = ((bits & Vector256.Create(0x007FFFFFu)) | Vector256.Create(0x3F000000u)).AsSingle();
        var small = Vector256.LessThan(m, Vector256.Create(0.707106781186547524f));
        var one = Vector256.Create(1.0f);
        e = Vector256.ConditionalSelect(small, e - one, e);
        m = Vector256.ConditionalSelect(small, m + m - one, m - one);
        var z = m * m;
        var p = Fma(Vector256.Create(Philox.Log0), m, Vector256.Create(Philox.Log1));
        p = Fma(p, m, Vector256.Create(Philox.Log2));
        p = Fma(p, m, Vector256.Create(Philox.Log3));
        p = Fma(p, m, Vector256.Create(Philox.Log4));
        p = Fma(p, m, Vector256.Create(Philox.Log5));
        p = Fma(p, m, Vector256.Create(Philox.Log6));
        p = Fma(p, m, Vector256.Create(Philox.Log7));
        p = Fma(p, m, Vector256.Create(Philox.Log8));
        var y = p * m * z;
        y = Fma(Vector256.Create(Philox.LogLow), e, y);
        y = Fma(Vector256.Create(-0.5f), z, y);
        return Fma(Vector256.Create(Philox.LogHigh), e, m + y);
    }

    /// <summary><see cref="Philox.SinCosTurns"/> on eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SinCosTurns(Vector256<float> u, out Vector256<float> sin, out Vector256<float> cos)
    {
        var q = Vector256.Floor(u * Vector256.Create(4.0f) + Vector256.Create(0.5f));
        var a = (u - q * Vector256.Create(0.25f)) * Vector256.Create(Philox.TwoPi);
        var z = a * a;
        var s = Fma(Fma(Vector256.Create(Philox.Sin0), z, Vector256.Create(Philox.Sin1)), z, Vector256.Create(Philox.Sin2));
        s = Fma(s * z, a, a);
        var c = Fma(Fma(Vector256.Create(Philox.Cos0), z, Vector256.Create(Philox.Cos1)), z, Vector256.Create(Philox.Cos2));
        c = Fma(c * z, z, Fma(Vector256.Create(-0.5f), z, Vector256.Create(1.0f)));
        var quadrant = Vector256.ConvertToInt32(q) & Vector256.Create(3);
        var swap = Vector256.Equals(quadrant & Vector256<int>.One, Vector256<int>.One).AsSingle();
        var sinValue = Vector256.ConditionalSelect(swap, c, s);
        var cosValue = Vector256.ConditionalSelect(swap, s, c);
        var two = Vector256.Create(2);
        var negateSin = Vector256.Equals(quadrant & two, two).AsSingle();
        var negateCos = Vector256.Equals((quadrant + Vector256<int>.One) & two, two).AsSingle();
        sin = Vector256.ConditionalSelect(negateSin, -sinValue, sinValue);
        cos = Vector256.ConditionalSelect(negateCos, -cosValue, cosValue);
    }
}
