using System.Runtime.CompilerServices;
using Collapse.Kernels.Accelerators;
using ILGPU;

namespace Collapse.Kernels.Random;

/// <summary>Four 32-bit words: a Philox counter or output block.</summary>
public struct UInt4(uint x, uint y, uint z, uint w)
{
    public uint X = x, Y = y, Z = z, W = w;
}

/// <summary>
/// Names one stream of random numbers: every number the suite draws is a pure function of
/// (seed, replicate, iteration, stream, index). The key holds (seed, replicate), the counter's
/// high words (iteration, stream), its low words the block index (4 numbers per block).
/// </summary>
public readonly struct RandomStream(uint seed, uint replicate, uint iteration, uint stream)
{
    public readonly uint Seed = seed, Replicate = replicate, Iteration = iteration, Stream = stream;

    /// <summary>The same stream for another replicate (replicates are independent seeds).</summary>
    public RandomStream ForReplicate(uint replicate) => new(Seed, replicate, Iteration, Stream);

    public UInt4 Block(ulong block) => Philox.Philox4x32(
        new UInt4((uint)block, (uint)(block >> 32), Iteration, Stream), Seed, Replicate);
}

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) and the
/// transforms built on it. Plain static code so the same functions run inside ILGPU kernels,
/// on the host, and in the reference tests.
/// </summary>
public static class Philox
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Philox4x32(UInt4 c, uint k0, uint k1)
    {
        for (var round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c.X, p1 = (ulong)M1 * c.Z;
            c = new UInt4((uint)(p1 >> 32) ^ c.Y ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c.W ^ k1, (uint)p0);
            k0 += W0;
            k1 += W1;
        }
        return c;
    }

    /// <summary>Uniform in (0, 1]: 24 random bits, never 0, so its logarithm is finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float UniformOpenClosed(uint bits) => ((bits >> 8) + 1) * (1.0f / 16777216.0f);

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Uniform(uint bits) => (bits >> 8) * (1.0f / 16777216.0f);

    /// <summary>Uniform in [0, 1) with 53 random bits, from two words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double UniformDouble(uint hi, uint lo) =>
        ((((ulong)hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>
    /// Uniform integer in [0, bound) by Lemire's multiply-shift on 64 random bits; the bias is
    /// below bound / 2^64, far under anything a test of this suite could see.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint UniformInt(uint hi, uint lo, uint bound)
    {
        // High 32 bits of the 96-bit product (hi·2^32 + lo)·bound, without a 128-bit type.
        return (uint)(((ulong)hi * bound + (((ulong)lo * bound) >> 32)) >> 32);
    }

    /// <summary>
    /// Box–Muller in float32: the pair of standard normals from two words. Tails are cut at
    /// |z| ≤ 5.9 (24-bit uniforms), a probability of 4e-9 per draw. The logarithm and sine/cosine
    /// are <see cref="LogUnit"/> and <see cref="SinCosTurns"/>: only multiplies, adds, explicit FMAs
    /// and a square root, so the AVX2 path and ILGPU kernels compute the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        var r = MathF.Sqrt(-2.0f * LogUnit(UniformOpenClosed(a)));
        SinCosTurns(Uniform(b), out var sin, out var cos);
        z0 = r * cos;
        z1 = r * sin;
    }

    // Cephes' logf and sinf/cosf minimax coefficients (S. L. Moshier), good to about one ulp.
    internal const float Log0 = 7.0376836292E-2f, Log1 = -1.1514610310E-1f, Log2 = 1.1676998740E-1f,
        Log3 = -1.2420140846E-1f, Log4 = 1.4249322787E-1f, Log5 = -1.6668057665E-1f, Log6 = 2.0000714765E-1f,
        Log7 = -2.4999993993E-1f, Log8 = 3.3333331174E-1f, LogLow = -2.12194440e-4f, LogHigh = 0.693359375f;
    internal const float Sin0 = -1.9515295891E-4f, Sin1 = 8.3321608736E-3f, Sin2 = -1.6666654611E-1f;
    internal const float Cos0 = 2.443315711809948E-5f, Cos1 = -1.388731625493765E-3f, Cos2 = 4.166664568298827E-2f;
    internal const float TwoPi = 6.28318530717958647692f;

    /// <summary>Natural log of x in (0, 1] (a normal float): x = m·2^e, m ∈ [√½, √2), then Cephes' polynomial in m − 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogUnit(float x)
    {
        var bits = Interop.FloatAsInt(x);
        var e = (int)(bits >> 23) - 126;
        var m = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F000000u);
        if (m < 0.707106781186547524f)
        {
            e -= 1;
            m = m + m - 1.0f;
        }
        else m -= 1.0f;
        var z = m * m;
        var p = KernelMath.Fma(Log0, m, Log1);
        p = KernelMath.Fma(p, m, Log2);
        p = KernelMath.Fma(p, m, Log3);
        p = KernelMath.Fma(p, m, Log4);
        p = KernelMath.Fma(p, m, Log5);
        p = KernelMath.Fma(p, m, Log6);
        p = KernelMath.Fma(p, m, Log7);
        p = KernelMath.Fma(p, m, Log8);
        var y = p * m * z;
        float ef = e;
        y = KernelMath.Fma(LogLow, ef, y);
        y = KernelMath.Fma(-0.5f, z, y);
        return KernelMath.Fma(LogHigh, ef, m + y);
    }

    /// <summary>
    /// sin and cos of 2π·u for u in [0, 1) with 24 bits: the quadrant comes from u exactly, the
    /// remaining angle lies in [−π/4, π/4] where Cephes' polynomials hold.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTurns(float u, out float sin, out float cos)
    {
        var q = MathF.Floor(u * 4.0f + 0.5f);
        var a = (u - q * 0.25f) * TwoPi;
        var z = a * a;
        var s = KernelMath.Fma(KernelMath.Fma(Sin0, z, Sin1), z, Sin2);
        s = KernelMath.Fma(s * z, a, a);
        var c = KernelMath.Fma(KernelMath.Fma(Cos0, z, Cos1), z, Cos2);
        c = KernelMath.Fma(c * z, z, KernelMath.Fma(-0.5f, z, 1.0f));
        var quadrant = (int)q & 3;
        var sinValue = (quadrant & 1) == 0 ? s : c;
        var cosValue = (quadrant & 1) == 0 ? c : s;
        sin = (quadrant & 2) == 0 ? sinValue : -sinValue;
        cos = ((quadrant + 1) & 2) == 0 ? cosValue : -cosValue;
    }

    /// <summary>
    /// Standard normal number <paramref name="index"/> of a stream. Normals come in groups of 32
    /// from 8 consecutive blocks, ordered by output word, then block: index = 32·g + 8·q + lane is
    /// word q of block 8·g + lane (words 0, 1 from Box–Muller on X, Y; words 2, 3 on Z, W). The order
    /// lets the CPU path store eight lanes at once.
    /// </summary>
    public static float Normal(RandomStream stream, ulong index)
    {
        var q = (index >> 3) & 3;
        var block = stream.Block(((index >> 5) << 3) | (index & 7));
        float z0, z1;
        if (q < 2) BoxMuller(block.X, block.Y, out z0, out z1);
        else BoxMuller(block.Z, block.W, out z0, out z1);
        return (q & 1) == 0 ? z0 : z1;
    }

    /// <summary>Uniform [0,1) number <paramref name="index"/> of a stream (one word each).</summary>
    public static float UniformAt(RandomStream stream, ulong index)
    {
        var block = stream.Block(index >> 2);
        var word = (index & 3) switch { 0 => block.X, 1 => block.Y, 2 => block.Z, _ => block.W };
        return Uniform(word);
    }

    /// <summary>Uniform integer in [0, bound): number <paramref name="index"/> of a stream (two words each).</summary>
    public static uint UniformIntAt(RandomStream stream, ulong index, uint bound)
    {
        var block = stream.Block(index >> 1);
        return (index & 1) == 0 ? UniformInt(block.X, block.Y, bound) : UniformInt(block.Z, block.W, bound);
    }
}
