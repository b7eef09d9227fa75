namespace Collapse.Tests.Lm;

/// <summary>The model learns: a short training run on the real names, at a fixed seed.</summary>
public class LmTrainingTests
{
    [Fact]
    public void Tiny_preset_learns_names_far_below_log_vocabulary()
    {
        var corpus = CharCorpus.Names();
        Assert.Equal(32033, corpus.Documents.Count);
        Assert.Equal((27, 16), (corpus.VocabularySize, corpus.BlockSize));
        // Every 32nd name held out (1,001 names), the rest for training.
        var test = corpus.Documents.Where((_, i) => i % 32 == 0).Select(corpus.Encode).ToList();
        var train = corpus.Documents.Where((_, i) => i % 32 != 0).Select(corpus.Encode).ToList();
        var config = GptPreset.Tiny.Config(corpus.VocabularySize, corpus.BlockSize);
        using var model = new GptModel(LmTestKit.Kernels("cpu", KernelPath.Auto), config, GptPreset.Tiny.Training, 1, 512);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        var (trainSet, testSet) = (TokenSet.Encode(train, config.BlockSize), TokenSet.Encode(test, config.BlockSize));
        var before = model.Evaluate(testSet)[0];
        for (var step = 0; step < 300; step++) model.TrainStep(trainSet, new RandomStream(1, 0, 0, 3), step);
        var after = model.Evaluate(testSet)[0];
        // Measured at this seed: 3.454 before (an untrained model is worse than uniform, log 27 = 3.296),
        // 2.287 after 300 steps (2.192 after 1,000). A bigram model of these names reaches about 2.45.
        Assert.InRange(before, 3.2, 4.0);
        Assert.InRange(after, 2.0, 2.4);
        // Its samples look like names: mostly new, of a name's length.
        var rows = model.Sample(200, 1.0f, new RandomStream(1, 0, 0, 4));
        var names = Enumerable.Range(0, 200).Select(i => corpus.Decode(TokenSet.Sequence(rows.AsSpan(i * 16, 16)))).ToList();
        Assert.InRange(names.Average(n => n.Length), 4.0, 9.0);
        Assert.True(names.Distinct().Count() > 150, $"only {names.Distinct().Count()} distinct names of 200");
    }

    [Fact]
    public void Warm_up_scales_the_learning_rate_of_a_fit_s_first_steps()
    {
        var warm = new GptTraining(8, 1e-3, WarmupSteps: 4);
        double[] expected = [0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3];
        for (var step = 1; step <= 5; step++) Assert.Equal(expected[step - 1], warm.LearningRateAt(step), 1e-18);
        Assert.Equal(1e-3, (warm with { WarmupSteps = 0 }).LearningRateAt(1));

        // The optimizer takes it: Adam's first step moves each weight by about lr (m̂/√v̂ = ±1), so a
        // warm-up of 10 steps moves it a tenth as far.
        var config = LmTestKit.Small;
        var random = new System.Random(5);
        var inputs = Enumerable.Range(0, 8 * config.BlockSize).Select(_ => random.Next(config.Vocab)).ToArray();
        var targets = Enumerable.Range(0, 8 * config.BlockSize).Select(_ => random.Next(config.Vocab)).ToArray();
        float[] Moved(int warmup)
        {
            using var model = new GptModel(LmTestKit.Kernels("cpu", KernelPath.Auto), config, new GptTraining(8, 2e-3, WarmupSteps: warmup), 1, 8);
            model.Initialize(new RandomStream(1, 0, 0, 10), new RandomStream(1, 0, 0, 11));
            var before = model.GetParameters();
            model.TrainStep(inputs, targets);
            return [.. model.GetParameters().Zip(before, (a, b) => a - b)];
        }
        var (full, tenth) = (Moved(0), Moved(10));
        var largest = full.Max(Math.Abs);
        Assert.InRange(largest, 1.5e-3, 2.5e-3);
        for (var i = 0; i < full.Length; i++)
            Assert.True(Math.Abs(10 * tenth[i] - full[i]) <= 2e-3 * largest, $"weight {i}: moved {tenth[i]} with warm-up, {full[i]} without");
    }
}
