using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Random;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// Philox4x32-10 and Box–Muller on eight counters at once (AVX2): the CPU path's standard
/// normals, the same function of (stream, index) as <see cref="Philox.Normal"/>. Every lane is
/// computed by the same vector code whatever its position, so results do not depend on where a
/// fill starts; they can differ from the scalar MathF path in the last bits of log/sin/cos.
/// </summary>
public static class SimdNormals
{
    public static bool IsSupported => Avx2.IsSupported;

    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Writes normals number start, start+1, … of the stream into destination.</summary>
    public static void Fill(RandomStream stream, ulong start, Span<float> destination)
    {
        Span<float> block = stackalloc float[32];
        var firstBlock = start >> 2;
        var skip = (int)(start & 3);
        var written = 0;
        for (var b = firstBlock; written < destination.Length; b += 8)
        {
            Generate32(stream, b, block);
            var from = b == firstBlock ? skip : 0;
            var take = Math.Min(32 - from, destination.Length - written);
            block.Slice(from, take).CopyTo(destination.Slice(written));
            written += take;
        }
    }

    /// <summary>Normals 4·firstBlock … 4·firstBlock + 31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Generate32(RandomStream stream, ulong firstBlock, Span<float> output)
    {
        var lanes = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
        var low = Vector256.Create((uint)firstBlock) + lanes;
        // Carry into the high word where the 8 consecutive blocks cross a 2^32 boundary.
        var carry = Vector256.LessThan(low, Vector256.Create((uint)firstBlock));
        var c0 = low;
        var c1 = Vector256.Create((uint)(firstBlock >> 32)) - carry;
        var c2 = Vector256.Create(stream.Iteration);
        var c3 = Vector256.Create(stream.Stream);
        uint k0 = stream.Seed, k1 = stream.Replicate;
        var m0 = Vector256.Create(M0);
        var m1 = Vector256.Create(M1);
        for (var round = 0; round < 10; round++)
        {
            var hi0 = MulHigh(c0, m0);
            var lo0 = c0 * m0;
            var hi1 = MulHigh(c2, m1);
            var lo1 = c2 * m1;
            c0 = hi1 ^ c1 ^ Vector256.Create(k0);
            c1 = lo1;
            c2 = hi0 ^ c3 ^ Vector256.Create(k1);
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        BoxMuller(c0, c1, out var z0, out var z1);
        BoxMuller(c2, c3, out var z2, out var z3);
        for (var lane = 0; lane < 8; lane++)
        {
            output[4 * lane] = z0.GetElement(lane);
            output[4 * lane + 1] = z1.GetElement(lane);
            output[4 * lane + 2] = z2.GetElement(lane);
            output[4 * lane + 3] = z3.GetElement(lane);
        }
    }

    /// <summary>High 32 bits of each lane's 32×32-bit product: even lanes and odd lanes separately.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<uint> MulHigh(Vector256<uint> a, Vector256<uint> m)
    {
        var even = Avx2.Multiply(a, m);
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), m);
        return Avx2.Blend(Avx2.ShiftRightLogical(even, 32).AsUInt32(), odd.AsUInt32(), 0b1010_1010);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void BoxMuller(Vector256<uint> a, Vector256<uint> b, out Vector256<float> z0, out Vector256<float> z1)
    {
        var scale = Vector256.Create(1.0f / 16777216.0f);
        var u1 = Vector256.ConvertToSingle(((a >> 8) + Vector256<uint>.One).AsInt32()) * scale;
        var u2 = Vector256.ConvertToSingle((b >> 8).AsInt32()) * scale;
        var radius = Vector256.Sqrt(Vector256.Create(-2.0f) * Vector256.Log(u1));
        var (sin, cos) = Vector256.SinCos(Vector256.Create(6.28318530717958647692f) * u2);
        z0 = radius * cos;
        z1 = radius * sin;
    }
}
