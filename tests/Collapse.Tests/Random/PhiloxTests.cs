using Collapse.Kernels.Cpu;

namespace Collapse.Tests.Random;

public class PhiloxTests
{
    // Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Matches_the_published_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
        uint x, uint y, uint z, uint w)
    {
        var result = Philox.Philox4x32(new UInt4(c0, c1, c2, c3), k0, k1);
        Assert.Equal((x, y, z, w), (result.X, result.Y, result.Z, result.W));
    }

    [Fact]
    public void Uniform_integers_are_below_the_bound_and_uniform()
    {
        var stream = new RandomStream(7, 3, 1, 9);
        const uint bound = 10;
        var counts = new long[bound];
        const int draws = 200_000;
        for (var i = 0; i < draws; i++)
        {
            var v = Philox.UniformIntAt(stream, (ulong)i, bound);
            Assert.True(v < bound);
            counts[v]++;
        }
        var chi = Statistics.ChiSquare(counts, Enumerable.Repeat(draws / (double)bound, (int)bound).ToArray());
        Assert.True(chi < Statistics.ChiSquareBound((int)bound - 1), $"chi-square {chi}");
    }

    [Fact]
    public void Normals_have_mean_zero_variance_one_and_gaussian_tails()
    {
        var stream = new RandomStream(1, 2, 3, 4);
        const int count = 400_000;
        double sum = 0, sumSquares = 0, sumFourth = 0;
        var beyond2 = 0;
        for (var i = 0; i < count; i++)
        {
            double z = Philox.Normal(stream, (ulong)i);
            sum += z;
            sumSquares += z * z;
            sumFourth += z * z * z * z;
            if (Math.Abs(z) > 2) beyond2++;
        }
        Assert.InRange(sum / count, -4.5 / Math.Sqrt(count), 4.5 / Math.Sqrt(count));
        Assert.InRange(sumSquares / count, 1 - 4.5 * Math.Sqrt(2.0 / count), 1 + 4.5 * Math.Sqrt(2.0 / count));
        Assert.InRange(sumFourth / count, 3 - 4.5 * Math.Sqrt(96.0 / count), 3 + 4.5 * Math.Sqrt(96.0 / count));
        // P(|Z| > 2) = 0.0455.
        var p = 0.0455003;
        Assert.InRange(beyond2 / (double)count, p - 4.5 * Math.Sqrt(p * (1 - p) / count), p + 4.5 * Math.Sqrt(p * (1 - p) / count));
    }

    [Fact]
    public void Streams_differing_in_any_coordinate_are_unrelated()
    {
        var baseStream = new RandomStream(1, 2, 3, 4);
        var variants = new[]
        {
            new RandomStream(9, 2, 3, 4), new RandomStream(1, 9, 3, 4), new RandomStream(1, 2, 9, 4), new RandomStream(1, 2, 3, 9),
        };
        const int count = 20_000;
        foreach (var other in variants)
        {
            double cross = 0;
            for (var i = 0; i < count; i++) cross += Philox.Normal(baseStream, (ulong)i) * Philox.Normal(other, (ulong)i);
            Assert.InRange(cross / count, -4.5 / Math.Sqrt(count), 4.5 / Math.Sqrt(count));
        }
    }

    /// <summary>Both SIMD widths: AVX2 on every x86-64 machine the suite supports, AVX-512 where the CPU has it.</summary>
    public static TheoryData<bool> Widths() => new(false, true);

    static void AssumeWidth(bool wide)
    {
        Assert.SkipUnless(SimdNormals.IsSupported, "this CPU has no AVX2");
        if (wide) Assert.SkipUnless(SimdNormals.Is512Supported, "this CPU has no AVX-512 (the AVX2 case still runs)");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Simd_normals_match_the_scalar_definition(bool wide)
    {
        AssumeWidth(wide);
        var stream = new RandomStream(11, 5, 2, 2);
        var simd = new float[10_003];
        SimdNormals.Fill(stream, 0, simd, wide);
        // Same operations in the same order: bit for bit, not just close.
        for (var i = 0; i < simd.Length; i++)
            Assert.Equal(Philox.Normal(stream, (ulong)i), simd[i]);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Simd_normals_match_the_scalar_definition_past_the_low_counter_words_end(bool wide)
    {
        // Blocks near 2^32: the counter's low word wraps into the high word between fills.
        AssumeWidth(wide);
        var stream = new RandomStream(2, 9, 1, 3);
        const ulong start = (1UL << 34) - 100; // normal 32·g + … lives in block 8·g + …: block 2^32 starts at normal 2^34
        var simd = new float[300];
        SimdNormals.Fill(stream, start, simd, wide);
        for (var i = 0; i < simd.Length; i++)
            Assert.Equal(Philox.Normal(stream, start + (ulong)i), simd[i]);
    }

    [Fact]
    public void Log_and_sincos_are_accurate_to_a_few_ulps()
    {
        for (uint k = 0; k < (1u << 24); k += 37)
        {
            var u = (k + 1) * (1.0f / 16777216.0f);
            var log = Philox.LogUnit(u);
            Assert.True(Math.Abs(log - Math.Log(u)) <= 3e-7 * Math.Max(1, Math.Abs(Math.Log(u))), $"log({u}) = {log}, exact {Math.Log(u)}");
            var t = k * (1.0f / 16777216.0f);
            Philox.SinCosTurns(t, out var sin, out var cos);
            Assert.True(Math.Abs(sin - Math.Sin(2 * Math.PI * t)) <= 4e-7, $"sin(2π·{t}) = {sin}, exact {Math.Sin(2 * Math.PI * t)}");
            Assert.True(Math.Abs(cos - Math.Cos(2 * Math.PI * t)) <= 4e-7, $"cos(2π·{t}) = {cos}, exact {Math.Cos(2 * Math.PI * t)}");
        }
    }

    [Theory]
    [InlineData(1, 5, false)]
    [InlineData(3, 64, false)]
    [InlineData(33, 1000, false)]
    [InlineData(1, 5, true)]
    [InlineData(3, 64, true)]
    [InlineData(33, 1000, true)]
    public void Simd_normals_do_not_depend_on_where_a_fill_starts(int start, int length, bool wide)
    {
        AssumeWidth(wide);
        var stream = new RandomStream(3, 1, 4, 1);
        var whole = new float[start + length];
        SimdNormals.Fill(stream, 0, whole, wide);
        var part = new float[length];
        SimdNormals.Fill(stream, (ulong)start, part, wide);
        Assert.Equal(whole.AsSpan(start).ToArray(), part);
    }
}
