using Collapse.Performance.Reference;

namespace Collapse.Tests.Lm;

/// <summary>
/// The whole model on the kernels against the float64 reference (whose gradients match finite
/// differences, see <see cref="ReferenceGptTests"/>), and the independence of batched replicates.
/// </summary>
public class GptModelTests
{
    static readonly GptConfig Config = LmTestKit.Small;

    static GptModel Model(string device, LmVersion version, int replicates, GptTraining training, int maxBatch = 4) =>
        new(LmTestKit.Kernels(device, version), Config, training, replicates, maxBatch);

    /// <summary>Parameters at a generic point (LayerNorm weights not all 1), one set per replicate.</summary>
    static float[] GenericParameters(int seed, int replicates) => LmTestKit.Uniforms(seed, replicates * new GptLayout(Config).Count, 0.7f);

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Loss_and_every_gradient_match_the_reference(string device, LmVersion version)
    {
        const int R = 2, B = 3;
        using var model = Model(device, version, R, new GptTraining(B, 1e-3));
        var parameters = GenericParameters(1, R);
        var (inputs, targets) = LmTestKit.Batch(2, Config, R, B);
        model.SetParameters(parameters);
        model.ComputeGradients(inputs, targets, B);
        var (losses, gradients) = (model.LastLosses(), model.GetGradients());
        var layout = model.Layout;
        var rowLength = B * Config.BlockSize;
        for (var r = 0; r < R; r++)
        {
            var reference = new ReferenceGpt(Config, LmTestKit.ToDouble(parameters.AsSpan((int)(r * layout.Count), (int)layout.Count)));
            var loss = reference.Forward(inputs[(r * rowLength)..((r + 1) * rowLength)], targets[(r * rowLength)..((r + 1) * rowLength)], B, Config.BlockSize);
            reference.Backward();
            Assert.Equal(loss, losses[r], 1e-5 * loss);
            foreach (var tensor in layout.Tensors)
                LmTestKit.CloseToScale(reference.Gradients.AsSpan((int)tensor.Offset, (int)tensor.Length),
                    gradients.AsSpan((int)(r * layout.Count + tensor.Offset), (int)tensor.Length), 1e-4, $"replicate {r} {tensor.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Two_training_steps_with_clipping_match_the_reference_optimizer(string device, LmVersion version)
    {
        const int R = 2, B = 3;
        // eps 1e-3 keeps each update a smooth function of its gradient: with eps 1e-8, a gradient
        // near 0 moves its parameter by ±lr on its float32 rounding's sign alone.
        var training = new GptTraining(B, LearningRate: 1e-2, Epsilon: 1e-3, WeightDecay: 0.05, MaxGradNorm: 0.5);
        using var model = Model(device, version, R, training);
        var parameters = GenericParameters(3, R);
        model.SetParameters(parameters);
        var batches = new[] { LmTestKit.Batch(4, Config, R, B), LmTestKit.Batch(5, Config, R, B) };
        var norms = new List<double[]>();
        foreach (var (inputs, targets) in batches)
        {
            model.TrainStep(inputs, targets);
            norms.Add(model.GradientNorms());
        }
        var result = model.GetParameters();
        var layout = model.Layout;
        var rowLength = B * Config.BlockSize;
        for (var r = 0; r < R; r++)
        {
            var reference = new ReferenceGpt(Config, LmTestKit.ToDouble(parameters.AsSpan((int)(r * layout.Count), (int)layout.Count)));
            for (var s = 0; s < batches.Length; s++)
            {
                var (inputs, targets) = batches[s];
                reference.Forward(inputs[(r * rowLength)..((r + 1) * rowLength)], targets[(r * rowLength)..((r + 1) * rowLength)], B, Config.BlockSize);
                reference.Backward();
                var norm = reference.Update(training);
                Assert.True(norm > training.MaxGradNorm, $"the test must clip: norm {norm}");
                Assert.Equal(norm, norms[s][r], 1e-4 * norm);
            }
            LmTestKit.Close(reference.Parameters, result.AsSpan((int)(r * layout.Count), (int)layout.Count), 2e-5, $"replicate {r} parameters");
            // The step really moved the parameters (by about lr each), so the comparison is not of two copies of the start.
            var moved = reference.Parameters.Select((p, i) => Math.Abs(p - parameters[r * layout.Count + i])).Max();
            Assert.InRange(moved, 0.5 * training.LearningRate, 10 * training.LearningRate);
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Three_batched_replicates_equal_three_single_runs(string device, LmVersion version)
    {
        const int R = 3, B = 4;
        var training = new GptTraining(B, 5e-3, MaxGradNorm: 1.0);
        var (normals, uniforms) = (new RandomStream(11, 0, 0, 1), new RandomStream(11, 0, 0, 2));
        var batches = new[] { LmTestKit.Batch(6, Config, R, B), LmTestKit.Batch(7, Config, R, B) };
        using var batched = Model(device, version, R, training);
        batched.Initialize(normals, uniforms);
        var initial = batched.GetParameters();
        foreach (var (inputs, targets) in batches) batched.TrainStep(inputs, targets);
        var (trained, losses) = (batched.GetParameters(), batched.LastLosses());
        var P = (int)batched.Layout.Count;
        var rowLength = B * Config.BlockSize;
        for (var r = 0; r < R; r++)
        {
            using var single = Model(device, version, 1, training);
            single.Initialize(normals, uniforms, firstReplicate: r);
            Assert.Equal(initial.AsSpan(r * P, P).ToArray(), single.GetParameters());
            foreach (var (inputs, targets) in batches)
                single.TrainStep(inputs[(r * rowLength)..((r + 1) * rowLength)], targets[(r * rowLength)..((r + 1) * rowLength)]);
            Assert.Equal(trained.AsSpan(r * P, P).ToArray(), single.GetParameters());
            Assert.Equal(losses[r], single.LastLosses()[0]);
        }
        // And the replicates are different models: the same code on different seeds and data.
        Assert.NotEqual(trained.AsSpan(0, P).ToArray(), trained.AsSpan(P, P).ToArray());
    }

    [Fact]
    public void Initialization_is_pytorch_default_per_tensor()
    {
        // The makemore model, so the tensors are large enough for their statistics to be checked.
        using var model = new GptModel(LmTestKit.Kernels("cpu", KernelPath.Auto), GptPreset.Makemore.Config(27, 16), new GptTraining(1, 1e-3), 1, 1);
        model.Initialize(new RandomStream(5, 0, 0, 1), new RandomStream(5, 0, 0, 2));
        var parameters = model.GetParameters();
        foreach (var tensor in model.Layout.Tensors)
        {
            var values = parameters.AsSpan((int)tensor.Offset, (int)tensor.Length).ToArray();
            switch (tensor.Init)
            {
                case ParameterInit.One: Assert.All(values, v => Assert.Equal(1.0f, v)); break;
                case ParameterInit.Zero: Assert.All(values, v => Assert.Equal(0.0f, v)); break;
                case ParameterInit.UniformFanIn:
                    var bound = 1 / Math.Sqrt(tensor.FanIn);
                    Assert.All(values, v => Assert.InRange(v, -bound, bound));
                    // 256 uniforms all miss the outer 10% on one side with probability 0.9^256 ≈ 2·10⁻¹².
                    if (values.Length >= 256)
                        Assert.True(values.Max() > 0.8 * bound && values.Min() < -0.8 * bound, $"{tensor.Name} does not fill ±{bound}");
                    break;
                case ParameterInit.Normal:
                    var mean = values.Average();
                    var sd = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
                    // Four standard errors of a sample of this size.
                    Assert.InRange(mean, -4 / Math.Sqrt(values.Length), 4 / Math.Sqrt(values.Length));
                    Assert.InRange(sd, 1 - 4 / Math.Sqrt(2.0 * values.Length), 1 + 4 / Math.Sqrt(2.0 * values.Length));
                    break;
            }
        }
    }

    [Theory]
    [InlineData("no-such-preset")]
    [InlineData("")]
    public void Unknown_preset_names_the_choices(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => GptPreset.Parse(name));
        Assert.Contains("makemore, tiny", error.Message);
    }

    [Fact]
    public void Width_not_divisible_by_heads_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new GptConfig(27, 16, 2, 30, 4).Validated());
        Assert.Contains("width 30 is not divisible by heads 4", error.Message);
    }
}
