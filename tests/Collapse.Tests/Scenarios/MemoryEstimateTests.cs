using Collapse.Engine.Families.Lm;
using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Kde;

namespace Collapse.Tests.Scenarios;

/// <summary>
/// The memory estimates that size a sweep's batches sit beside the allocations they describe (the
/// families' BytesPerReplicate); here they are checked against what a real cell allocates on the
/// CPU, measured by the sweep's ledger: never below the peak (a batch sized by the estimate fits)
/// and not far above it (batches are not needlessly small).
/// </summary>
public class MemoryEstimateTests
{
    const int Seeds = 6, Iterations = 5;

    public static TheoryData<string, GaussianMethod, int, int, KernelPath> GaussianCells()
    {
        var data = new TheoryData<string, GaussianMethod, int, int, KernelPath>();
        foreach (var path in new[] { KernelPath.Auto, KernelPath.Ilgpu })
            foreach (var (d, n) in new[] { (3, 10), (31, 200) })
            {
                foreach (var setting in Settings.All) data.Add(setting.Name(), GaussianMethod.Data, d, n, path);
                data.Add(Setting.Replace.Name(), GaussianMethod.Wishart, d, n, path);
                data.Add(Setting.Accumulate.Name(), GaussianMethod.Wishart, d, n, path);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(GaussianCells))]
    public void Gaussian_estimate_covers_what_a_cell_allocates(string setting, GaussianMethod method, int d, int n, KernelPath path)
    {
        var config = new GaussianSweepConfig
        {
            Dims = [d], Samples = [n], Seeds = Seeds, Iterations = Iterations, Settings = [Settings.Parse(setting)], Method = method,
        };
        using var sweep = new GaussianSweep(TestDevices.Get("cpu"), config, path) { ReplicatesPerBatch = Seeds };
        var cell = config.Cells().Single();
        sweep.Rows(cell, cancellation: TestContext.Current.CancellationToken);
        AssertCovers(Seeds * sweep.BytesPerReplicate(cell, n), sweep.Memory.PeakBytes, cell.ToString());
    }

    [Theory]
    [InlineData("replace", "0.5", 20)]
    [InlineData("accumulate", "0.5", 50)]
    [InlineData("accumulate", "scott", 50)]
    [InlineData("accumulate-subsample", "0.5", 50)]
    public void Kde_estimate_covers_what_a_cell_allocates(string setting, string bandwidth, int n)
    {
        Bandwidth.TryParse(bandwidth, out var h);
        var config = new KdeSweepConfig
        {
            Datasets = [ToyDataset.Moons], Bandwidths = [h], Samples = [n], Seeds = Seeds, Iterations = Iterations,
            Settings = [Settings.Parse(setting)], TestSize = 50,
        };
        using var sweep = new KdeSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = Seeds };
        var cell = config.Cells().Single();
        sweep.Rows(cell, cancellation: TestContext.Current.CancellationToken);
        AssertCovers(Seeds * sweep.BytesPerReplicate(cell, n), sweep.Memory.PeakBytes, cell.ToString());
    }

    public static TheoryData<string, int, int, KernelPath> RegressionCells()
    {
        var data = new TheoryData<string, int, int, KernelPath>();
        foreach (var path in new[] { KernelPath.Auto, KernelPath.Ilgpu })
            foreach (var (d, n) in new[] { (3, 10), (32, 200), (40, 16) })
                foreach (var setting in Settings.All) data.Add(setting.Name(), d, n, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(RegressionCells))]
    public void Regression_estimate_covers_what_a_cell_allocates(string setting, int d, int n, KernelPath path)
    {
        var config = new RegressionSweepConfig
        {
            Dims = [d], Samples = [n], NoiseVariances = [1.0], Seeds = Seeds, Iterations = Iterations, Settings = [Settings.Parse(setting)], TestSize = 300,
        };
        using var sweep = new RegressionSweep(TestDevices.Get("cpu"), config, path) { ReplicatesPerBatch = Seeds };
        var cell = config.Cells().Single();
        sweep.Rows(cell, cancellation: TestContext.Current.CancellationToken);
        AssertCovers(Seeds * sweep.BytesPerReplicate(cell, n), sweep.Memory.PeakBytes, cell.ToString());
    }

    [Theory]
    [InlineData(3, KernelPath.Auto)]
    [InlineData(24, KernelPath.Auto)]
    [InlineData(24, KernelPath.Ilgpu)]
    public void Regression_mix_estimate_covers_what_a_batch_allocates(int d, KernelPath path)
    {
        var config = MixSweepConfig.Defaults(MixFamily.Regression) with
        {
            Dim = d, Real = [30, 400], Synthetic = [0, 100, 900], GeneratorReal = 400, TestSize = 200, Seeds = Seeds,
        };
        using var sweep = new MixSweep(TestDevices.Get("cpu"), config, path) { ReplicatesPerBatch = Seeds };
        foreach (var cell in sweep.Cells) sweep.Rows(cell, cancellation: TestContext.Current.CancellationToken);
        AssertCovers(Seeds * sweep.BytesPerReplicate(), sweep.Memory.PeakBytes, $"regression mix d={d} {path}");
    }

    /// <summary>The language model's device estimate (<see cref="GptModel.BytesPerReplicate"/>) against what a model holds once it has trained and sampled.</summary>
    [Theory]
    [InlineData("tiny", 1)]
    [InlineData("tiny", 3)]
    [InlineData("makemore", 2)]
    public void Lm_estimate_covers_what_a_model_allocates(string preset, int replicates)
    {
        var corpus = LmCorpus.Names();
        var model = LmModel.From(preset == "tiny" ? GptPreset.Tiny : GptPreset.Makemore);
        var config = model.Config(corpus);
        using var gpt = new GptModel(Tests.Lm.LmTestKit.Kernels("cpu", KernelPath.Auto), config, model.Training, replicates, LmSweep.ForwardBatch);
        gpt.Initialize(new RandomStream(1, 0, 0, 10), new RandomStream(1, 0, 0, 11));
        gpt.Sample(4, 1.0f, new RandomStream(1, 0, 2, 2));
        AssertCovers(replicates * GptModel.BytesPerReplicate(config, LmSweep.ForwardBatch), gpt.AllocatedBytes, $"{preset} R={replicates}");
    }

    static void AssertCovers(long estimate, long peak, string cell)
    {
        Assert.True(peak > 0, $"{cell}: nothing was allocated through the ledger");
        Assert.True(estimate >= peak, $"{cell}: the estimate {estimate:N0} B is below the {peak:N0} B a real cell allocated");
        Assert.True(estimate <= 1.5 * peak, $"{cell}: the estimate {estimate:N0} B is over 1.5× the {peak:N0} B a real cell allocated");
    }
}
