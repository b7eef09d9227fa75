using Collapse.Engine.Data;
using Collapse.Kernels.Lm;
using Collapse.Kernels.Random;

namespace Collapse.Benchmarks.Lm;

/// <summary>
/// Question: how much does the key/value cache save when sampling a synthetic set? Samples 1,024
/// names per replicate at temperature 1 from an initialized model (every name runs to the block's
/// end or its end token, as in a scenario's sampling), with the cached sampler (T − 1 positions per
/// name) and with makemore's rerun of the whole prefix (T(T − 1)/2), on the CPU path, for the tiny
/// and makemore presets. Names per second = 1,024 · R / mean. Both draw the same tokens (tested).
/// <see cref="Weights"/>: freshly initialized (names run long: the end token has ~1/27 of the mass) or trained for
/// <see cref="TrainingSteps"/> steps on the names, whose names end as a sweep's do (about 7 of 16 positions; the CPU
/// path's sampler drops finished names from its chunk).
/// </summary>
[MemoryDiagnoser(false)]
public class LmSamplerCacheBenchmark
{
    const int Names = 1024;

    [Params("cached", "full-prefix")]
    public string Sampler { get; set; } = "cached";

    [Params("tiny", "makemore")]
    public string Preset { get; set; } = "tiny";

    [Params(1)]
    public int Replicates { get; set; }

    [Params("initialized", "trained")]
    public string Weights { get; set; } = "trained";

    public const int TrainingSteps = 600;

    ComputeDevice device = null!;
    GptModel model = null!;

    [GlobalSetup]
    public void Setup()
    {
        device = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        var corpus = CharCorpus.Names();
        var preset = GptPreset.Parse(Preset);
        var config = preset.Config(corpus.VocabularySize, corpus.BlockSize);
        model = new GptModel(new LmKernels(device.Accelerator, KernelPath.Auto), config, preset.Training, Replicates, 256);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        if (Weights != "trained") return;
        var names = TokenSet.Encode(corpus.Documents.Select(corpus.Encode).ToList(), config.BlockSize);
        model.LoadTrainingSet(names);
        var order = Enumerable.Range(0, names.Count).ToArray();
        model.LoadOrders(0, [.. Enumerable.Repeat(order, Replicates)], null);
        var batch = preset.Training.Batch;
        for (var step = 0; step < TrainingSteps; step++)
        {
            model.ComputeGradients((long)step * batch % (names.Count - batch), batch);
            model.Update();
        }
        device.Accelerator.Synchronize();
    }

    [Benchmark]
    public int[] Sample() => Sampler == "cached"
        ? model.SampleCached(Names, 1.0f, new RandomStream(1, 0, 1, 2))
        : model.SampleFullPrefix(Names, 1.0f, new RandomStream(1, 0, 1, 2));

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        device.Dispose();
    }
}
