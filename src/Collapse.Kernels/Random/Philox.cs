using System.Runtime.CompilerServices;

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
    /// |z| ≤ 5.9 (24-bit uniforms), a probability of 4e-9 per draw.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        var r = MathF.Sqrt(-2.0f * MathF.Log(UniformOpenClosed(a)));
        var theta = 6.28318530717958647692f * Uniform(b);
        z0 = r * MathF.Cos(theta);
        z1 = r * MathF.Sin(theta);
    }

    /// <summary>Standard normal number <paramref name="index"/> of a stream.</summary>
    public static float Normal(RandomStream stream, ulong index)
    {
        var block = stream.Block(index >> 2);
        float z0, z1;
        if ((index & 2) == 0) BoxMuller(block.X, block.Y, out z0, out z1);
        else BoxMuller(block.Z, block.W, out z0, out z1);
        return (index & 1) == 0 ? z0 : z1;
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
