namespace Collapse.Tests.Lm;

/// <summary>Shared pieces of the language-model tests: kernels per (device, version), random data, tolerant comparison.</summary>
static class LmTestKit
{
    static readonly Dictionary<(string, LmVersion), LmKernels> Cache = [];

    public static LmKernels Kernels(string device, LmVersion version)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue((device, version), out var kernels))
                Cache[(device, version)] = kernels = new LmKernels(TestDevices.Get(device).Accelerator, version: version);
            return kernels;
        }
    }

    /// <summary>The version <paramref name="path"/> picks on <paramref name="device"/>.</summary>
    public static LmKernels Kernels(string device, KernelPath path) =>
        Kernels(device, LmKernels.Choose(TestDevices.Get(device).Accelerator, path));

    /// <summary>A small model with every feature: 2 blocks, 2 heads, vocabulary 7, block size 6.</summary>
    public static readonly GptConfig Small = new(Vocab: 7, BlockSize: 6, Layers: 2, Width: 8, Heads: 2);

    public static float[] Uniforms(int seed, long count, float scale = 1.0f)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, (int)count).Select(_ => (float)(scale * (2 * random.NextDouble() - 1))).ToArray();
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>
    /// Random training rows for R replicates, makemore-shaped: [R][B][T] inputs and targets, names
    /// of random lengths 0 … T−1 (so some rows are full and some mostly padding).
    /// </summary>
    public static (int[] Inputs, int[] Targets) Batch(int seed, GptConfig config, int replicates, int batch)
    {
        var random = new System.Random(seed);
        var sets = Enumerable.Range(0, replicates).Select(_ => (IReadOnlyList<int[]>)Enumerable.Range(0, batch)
            .Select(_ => Enumerable.Range(0, random.Next(0, config.BlockSize)).Select(_ => random.Next(1, config.Vocab)).ToArray()).ToArray()).ToArray();
        var set = TokenSet.Encode(sets, config.BlockSize);
        return (set.Inputs, set.Targets);
    }

    /// <summary>|actual − expected| ≤ tolerance·(1 + |expected|) everywhere, naming the worst index when not.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = -1;
        var worstExcess = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var excess = Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i]));
            if (!(excess <= worstExcess) || double.IsNaN(actual[i])) (worst, worstExcess) = (i, double.IsNaN(actual[i]) ? double.PositiveInfinity : excess);
        }
        // The message is built only on failure: with every number exact no index is the worst.
        if (!(worstExcess <= tolerance))
            Assert.Fail($"{what}: index {worst} is {actual[worst]}, expected {expected[worst]} (relative error {worstExcess:g3} > {tolerance:g3})");
    }

    /// <summary>
    /// Gradients compared relative to the largest gradient of the tensor: float32 sums of many
    /// terms carry absolute error proportional to the tensor's scale, not to each element's.
    /// </summary>
    public static void CloseToScale(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 0.0;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance * scale + 1e-7,
                $"{what}: index {i} is {actual[i]}, expected {expected[i]} (tensor scale {scale:g3})");
    }
}
