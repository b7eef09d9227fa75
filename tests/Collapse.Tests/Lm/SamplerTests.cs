using Collapse.Performance.Reference;

namespace Collapse.Tests.Lm;

/// <summary>Autoregressive sampling: the argmax path at temperature 0, frequencies that match the softmax, batching-independence.</summary>
public class SamplerTests
{
    static readonly GptConfig Config = LmTestKit.Small;
    static readonly RandomStream Stream = new(21, 0, 0, 9);

    static GptModel Model(string device, LmVersion version, int replicates, int maxBatch, int seed)
    {
        var model = new GptModel(LmTestKit.Kernels(device, version), Config, new GptTraining(1, 1e-3), replicates, maxBatch);
        // Uniform ±1.5 weights give the softmax well-separated logits (no near-ties for the argmax).
        model.SetParameters(LmTestKit.Uniforms(seed, replicates * model.Layout.Count, 1.5f));
        return model;
    }

    /// <summary>The reference's next-token logits after a prefix (start token first).</summary>
    static double[] NextLogits(ReferenceGpt reference, IReadOnlyList<int> prefix)
    {
        var targets = Enumerable.Repeat(ReferenceGptOps.Ignore, prefix.Count).ToArray();
        reference.Forward(prefix.ToArray(), targets, 1, prefix.Count);
        return reference.Logits[((prefix.Count - 1) * Config.Vocab)..(prefix.Count * Config.Vocab)];
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Temperature_zero_follows_the_argmax_path_of_the_reference(string device, LmVersion version)
    {
        const int R = 2, count = 3;
        using var model = Model(device, version, R, 2, 1);
        var parameters = model.GetParameters();
        var greedy = model.Sample(count, 0.0f, Stream);
        var nearlyGreedy = model.Sample(count, 1e-3f, Stream);
        var T = Config.BlockSize;
        for (var r = 0; r < R; r++)
        {
            var reference = new ReferenceGpt(Config, LmTestKit.ToDouble(parameters.AsSpan((int)(r * model.Layout.Count), (int)model.Layout.Count)));
            var expected = new List<int> { 0 };
            while (expected.Count < T)
            {
                var logits = NextLogits(reference, expected);
                var next = Array.IndexOf(logits, logits.Max());
                expected.Add(next);
                if (next == TokenSet.EndToken) break;
            }
            while (expected.Count < T) expected.Add(TokenSet.EndToken);
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(expected, greedy.AsSpan((r * count + i) * T, T).ToArray());
                Assert.Equal(expected, nearlyGreedy.AsSpan((r * count + i) * T, T).ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void First_characters_follow_the_softmax_at_the_temperature(string device, LmVersion version)
    {
        // Pearson's chi-square of 4,000 first tokens per replicate against softmax(logits/temperature)
        // of the reference, at a fixed seed; 6 degrees of freedom, critical value 22.46 at p = 0.001.
        const int R = 2, count = 4000;
        using var model = Model(device, version, R, 1000, 2);
        var parameters = model.GetParameters();
        var T = Config.BlockSize;
        foreach (var temperature in new[] { 1.0f, 0.6f })
        {
            var rows = model.Sample(count, temperature, Stream);
            for (var r = 0; r < R; r++)
            {
                var reference = new ReferenceGpt(Config, LmTestKit.ToDouble(parameters.AsSpan((int)(r * model.Layout.Count), (int)model.Layout.Count)));
                var logits = NextLogits(reference, [0]);
                var weights = logits.Select(l => Math.Exp((l - logits.Max()) / temperature)).ToArray();
                var observed = new int[Config.Vocab];
                for (var i = 0; i < count; i++) observed[rows[(r * count + i) * T + 1]]++;
                var chiSquare = weights.Select((w, v) =>
                {
                    var expected = count * w / weights.Sum();
                    return (observed[v] - expected) * (observed[v] - expected) / expected;
                }).Sum();
                Assert.True(chiSquare < 22.46, $"temperature {temperature}, replicate {r}: chi-square {chiSquare:F1}, observed [{string.Join(", ", observed)}]");
                // Every row starts with the start token, and nothing but end tokens follows its first end token.
                for (var i = 0; i < count; i++)
                {
                    var row = rows.AsSpan((r * count + i) * T, T);
                    Assert.Equal(TokenSet.EndToken, row[0]);
                    var end = row[1..].IndexOf(TokenSet.EndToken);
                    if (end >= 0) Assert.True(row[(end + 1)..].IndexOfAnyExcept(TokenSet.EndToken) < 0, "tokens after the end");
                }
            }
        }
    }

    [Fact]
    public void A_sample_after_the_weights_change_uses_the_new_weights()
    {
        // The CPU path keeps transposed weights while it samples (LmKernels.FreezeWeights); nothing may outlive the call.
        const int R = 2, count = 40;
        using var model = Model("cpu", LmVersion.Cpu, R, 8, 6);
        using var fresh = Model("cpu", LmVersion.Cpu, R, 8, 7);
        model.Sample(count, 1.0f, Stream);
        model.SetParameters(fresh.GetParameters());
        Assert.Equal(fresh.Sample(count, 1.0f, Stream), model.Sample(count, 1.0f, Stream));
    }

    [Fact]
    public void Names_do_not_depend_on_the_sampling_batch()
    {
        const int R = 2, count = 10;
        using var small = Model("cpu", LmVersion.Cpu, R, 3, 4);
        using var large = Model("cpu", LmVersion.Cpu, R, count, 4);
        Assert.Equal(large.Sample(count, 1.0f, Stream), small.Sample(count, 1.0f, Stream));
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void The_key_value_cache_sampler_draws_the_same_tokens_as_rerunning_the_prefix(string device, LmVersion version)
    {
        // Small weights: soft distributions, so names of every length and many distinct paths are drawn.
        const int R = 3, count = 150; // three cached chunks of up to 64 (4 × maxBatch), ten full-prefix chunks of 16
        using var model = new GptModel(LmTestKit.Kernels(device, version), Config, new GptTraining(1, 1e-3), R, maxBatch: 16);
        model.SetParameters(LmTestKit.Uniforms(5, R * model.Layout.Count, 0.6f));
        foreach (var temperature in new[] { 1.0f, 0.5f, 0.0f })
        {
            var full = model.SampleFullPrefix(count, temperature, Stream, firstReplicate: 2);
            var cached = model.SampleCached(count, temperature, Stream, firstReplicate: 2);
            Assert.Equal(full, cached);
            if (temperature == 1.0f)
            {
                var lengths = Enumerable.Range(0, R * count).Select(i => TokenSet.Sequence(full.AsSpan(i * Config.BlockSize, Config.BlockSize)).Length).ToList();
                Assert.True(lengths.Distinct().Count() >= 3, $"lengths {string.Join(',', lengths.Distinct())}: too few kinds of sequence to test");
            }
        }
        // The CPU path drops finished sequences from its chunks: the comparison above covered that.
        if (version == LmVersion.Cpu) Assert.True(model.SampleCompactions > 0, "no chunk was compacted");
        // Sample is the cached sampler.
        Assert.Equal(model.SampleFullPrefix(7, 1.0f, Stream), model.Sample(7, 1.0f, Stream));
    }
}
