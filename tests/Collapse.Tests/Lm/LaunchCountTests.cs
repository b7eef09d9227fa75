namespace Collapse.Tests.Lm;

/// <summary>
/// What a training step costs a GPU beyond its arithmetic: kernel launches and blocking copies, counted on the
/// ILGPU path (every operation a kernel, as on a GPU). The replicates of a batch share every launch, a step
/// uploads its batch's tokens and targets and copies nothing back, and without clipping it launches no
/// gradient-norm kernels.
/// </summary>
public class LaunchCountTests
{
    static LaunchCounts Step(int replicates, GptTraining training, int steps = 1)
    {
        // Fresh kernels per model, so the counter sees this model alone.
        var kernels = new LmKernels(TestDevices.Get("cpu").Accelerator, KernelPath.Ilgpu);
        using var model = new GptModel(kernels, LmTestKit.Small, training, replicates, training.Batch);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        var (inputs, targets) = LmTestKit.Batch(3, LmTestKit.Small, replicates, training.Batch);
        model.TrainStep(inputs, targets); // the first step may allocate or compile
        var before = model.Counts;
        for (var s = 0; s < steps; s++) model.TrainStep(inputs, targets);
        return model.Counts - before;
    }

    [Fact]
    public void A_training_step_launches_the_same_kernels_however_many_replicates_and_copies_only_its_batch_in()
    {
        var training = new GptTraining(3, LearningRate: 1e-3);
        var one = Step(1, training);
        var four = Step(4, training);
        Assert.True(one.Launches > 0);
        Assert.Equal(one, four);
        Assert.Equal(2, one.HostToDevice);
        Assert.Equal(0, one.DeviceToHost);
        // Steps cost the same every time.
        var three = Step(2, training, steps: 3);
        Assert.Equal(3 * one.Launches, three.Launches);
        Assert.Equal(6, three.HostToDevice);
    }

    /// <summary>
    /// The makemore preset's step, its batch gathered from the training set on the device: the plain kernels launch
    /// once per step of every operation (114), the GPU-shaped version fuses them (residual add + LayerNorm +
    /// product + GELU forward, GELU backward into the product's, one launch per backward and for the loss) to at
    /// most 60, issue 15's goal, and neither copies anything.
    /// </summary>
    [Theory]
    [InlineData(LmVersion.Plain, 114)]
    [InlineData(LmVersion.Shaped, 56)]
    public void The_makemore_step_launches_fused_kernels_and_copies_nothing(LmVersion version, int launches)
    {
        var config = GptPreset.Makemore.Config(27, 16);
        var training = new GptTraining(2, LearningRate: 1e-3); // launches do not depend on the batch
        var kernels = new LmKernels(TestDevices.Get("cpu").Accelerator, version: version);
        using var model = new GptModel(kernels, config, training, 2, training.Batch);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        var random = new System.Random(5);
        var sets = Enumerable.Range(0, 2).Select(_ => (IReadOnlyList<int[]>)[.. Enumerable.Range(0, 4).Select(_ =>
            Enumerable.Range(0, random.Next(1, 16)).Select(_ => random.Next(1, 27)).ToArray())]).ToArray();
        model.LoadTrainingSet(TokenSet.Encode(sets, 16));
        model.LoadOrders(0, [[0, 1, 2, 3], [3, 2, 1, 0]], null);
        model.ComputeGradients(0, 2); // the first step compiles
        model.Update();
        var before = model.Counts;
        model.ComputeGradients(2, 2);
        model.Update();
        var step = model.Counts - before;
        Assert.Equal(launches, step.Launches);
        Assert.True(version != LmVersion.Shaped || step.Launches <= 60);
        Assert.Equal(0, step.HostToDevice);
        Assert.Equal(0, step.DeviceToHost);
    }

    [Fact]
    public void Clipping_adds_the_gradient_norm_kernels_and_no_clipping_skips_them()
    {
        var plain = Step(2, new GptTraining(3, LearningRate: 1e-3));
        var clipped = Step(2, new GptTraining(3, LearningRate: 1e-3, MaxGradNorm: 1.0));
        // The norm's partial sums and the clip factor: two launches, only when clipping is on.
        Assert.Equal(plain.Launches + 2, clipped.Launches);
        Assert.Equal(plain.HostToDevice, clipped.HostToDevice);
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void A_step_gathered_from_the_training_set_on_the_device_copies_nothing_and_equals_the_uploaded_batch(string device, LmVersion version)
    {
        const int R = 2, m = 5, B = 3;
        var training = new GptTraining(B, LearningRate: 1e-3);
        var kernels = new LmKernels(TestDevices.Get(device).Accelerator, version: version);
        using var model = new GptModel(kernels, LmTestKit.Small, training, R, B);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        var random = new System.Random(4);
        // Each replicate's own m documents, and its rows' orders in two epochs.
        var sets = Enumerable.Range(0, R).Select(_ => (IReadOnlyList<int[]>)[.. Enumerable.Range(0, m).Select(_ =>
            Enumerable.Range(0, random.Next(1, LmTestKit.Small.BlockSize)).Select(_ => random.Next(1, LmTestKit.Small.Vocab)).ToArray())]).ToArray();
        var data = TokenSet.Encode(sets, LmTestKit.Small.BlockSize);
        int[][] Order(int seed) => [.. Enumerable.Range(0, R).Select(r => Enumerable.Range(0, m).OrderBy(_ => new System.Random(seed * 10 + r).Next()).ToArray())];
        var (current, next) = (Order(1), Order(2));
        model.LoadTrainingSet(data);
        model.LoadOrders(m, current, next);
        // Positions 8, 9 and 10 of a set of 5: entries 3 and 4 of the epoch starting at 5, then the first of the next.
        const long first = 8;
        var before = model.Counts;
        model.ComputeGradients(first, B);
        var counts = model.Counts - before;
        Assert.Equal(0, counts.HostToDevice);
        Assert.Equal(0, counts.DeviceToHost);
        var gathered = model.GetGradients();

        var T = LmTestKit.Small.BlockSize;
        var (inputs, targets) = (new int[R * B * T], new int[R * B * T]);
        for (var r = 0; r < R; r++)
            for (var i = 0; i < B; i++)
            {
                var g = first + i - m;
                var k = (int)(g % m);
                var row = data.RowOf(r, (g < m ? current : next)[r][k]);
                Array.Copy(data.Inputs, row, inputs, (r * B + i) * T, T);
                Array.Copy(data.Targets, row, targets, (r * B + i) * T, T);
            }
        model.ComputeGradients(inputs, targets, B);
        Assert.Equal(model.GetGradients(), gathered);
    }
}
