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
