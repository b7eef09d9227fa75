using Collapse.Performance.Reference;

namespace Collapse.Tests.Lm;

/// <summary>The float64 reference checked against itself: its backward against finite differences of its loss.</summary>
public class ReferenceGptTests
{
    [Fact]
    public void Backward_matches_central_differences_of_the_loss_for_every_parameter()
    {
        var config = LmTestKit.Small;
        var layout = new GptLayout(config);
        // Parameters at a generic point (not the initializer's LayerNorm 1s and 0s), so every term of every gradient is exercised.
        var parameters = LmTestKit.ToDouble(LmTestKit.Uniforms(1, layout.Count, 0.8f));
        var (inputs, targets) = LmTestKit.Batch(2, config, 1, 3);
        var model = new ReferenceGpt(config, parameters);
        model.Forward(inputs, targets, 3, config.BlockSize);
        model.Backward();
        var analytic = (double[])model.Gradients.Clone();
        const double h = 1e-5;
        for (var i = 0; i < layout.Count; i++)
        {
            var saved = parameters[i];
            parameters[i] = saved + h;
            var up = model.Forward(inputs, targets, 3, config.BlockSize);
            parameters[i] = saved - h;
            var down = model.Forward(inputs, targets, 3, config.BlockSize);
            parameters[i] = saved;
            var numeric = (up - down) / (2 * h);
            var name = layout.Tensors.Last(t => t.Offset <= i).Name;
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 + 1e-6 * Math.Abs(numeric),
                $"parameter {i} ({name}): backward {analytic[i]}, finite difference {numeric}");
        }
    }

    [Fact]
    public void Loss_is_the_mean_of_minus_log_p_over_predicted_positions_only()
    {
        var config = LmTestKit.Small;
        var layout = new GptLayout(config);
        var parameters = LmTestKit.ToDouble(LmTestKit.Uniforms(3, layout.Count, 0.8f));
        var (inputs, targets) = LmTestKit.Batch(4, config, 1, 2);
        var model = new ReferenceGpt(config, parameters);
        var loss = model.Forward(inputs, targets, 2, config.BlockSize);
        // torch's cross_entropy with ignore_index=-1: rows with target −1 count neither in the sum nor in the mean's denominator.
        var predicted = targets.Count(t => t != ReferenceGptOps.Ignore);
        Assert.InRange(predicted, 1, targets.Length - 1);
        var manual = 0.0;
        for (var n = 0; n < targets.Length; n++)
            if (targets[n] != ReferenceGptOps.Ignore) manual -= Math.Log(model.Probabilities[n * config.Vocab + targets[n]]);
        Assert.Equal(manual / predicted, loss, 1e-12);
    }
}
