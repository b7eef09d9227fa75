using Collapse.Engine.Data;
using Collapse.Kernels.Lm;
using Collapse.Kernels.Random;
using Collapse.Performance.Targets;

namespace Collapse.Benchmarks.Lm;

/// <summary>
/// Question: how many training tokens per second does one training step (forward, backward,
/// AdamW) process on each accelerator present, in each kernel version (on the CPU: the CPU path, AVX2
/// matmul + pointer C#, and ILGPU's CPU accelerator running the plain and the GPU-shaped kernels), for the tiny and makemore presets, one replicate and eight, and how many kernel
/// launches and copies does it make? The step is the sweep's: its batch gathered on the device from the
/// training set kept there. Tokens per step are R · batch · block size (R · 32 · 16 for the names), so
/// tokens/s = R · 512 / mean. makemore's PyTorch script on this machine's OpenBLAS: ~22,600 tokens/s.
/// </summary>
[MemoryDiagnoser(false)]
public class LmTrainingStepBenchmark : IMeasuredLaunches
{
    /// <summary>The accelerators present (<c>--targets</c>): the CPU, and OpenCL or CUDA where there is one.</summary>
    [ParamsSource(nameof(Accelerators))]
    public string Accelerator { get; set; } = BenchmarkTarget.Cpu;

    public static IEnumerable<string> Accelerators() => AcceleratorParams.Present();

    /// <summary>The kernels' version: the target's own (the CPU path on <c>cpu</c>), or the plain or the GPU-shaped (fused: fewer launches) ILGPU kernels.</summary>
    [ParamsAllValues]
    public LmKernelVersion Version { get; set; }

    [Params("tiny", "makemore")]
    public string Preset { get; set; } = "tiny";

    [Params(1, 8)]
    public int Replicates { get; set; }

    ComputeDevice device = null!;
    GptModel model = null!;

    [GlobalSetup]
    public void Setup()
    {
        var target = BenchmarkTarget.Parse(Accelerator);
        device = target.Open();
        var corpus = CharCorpus.Names();
        var preset = GptPreset.Parse(Preset);
        var config = preset.Config(corpus.VocabularySize, corpus.BlockSize);
        model = new GptModel(new LmKernels(device.Accelerator, target.Path, Version.Requested()), config, preset.Training, Replicates, preset.Training.Batch);
        model.Initialize(new RandomStream(1, 0, 0, 1), new RandomStream(1, 0, 0, 2));
        var names = TokenSet.Encode(corpus.Documents.Select(corpus.Encode).ToList(), config.BlockSize);
        model.LoadTrainingSet(names);
        var order = Enumerable.Range(0, names.Count).ToArray();
        model.LoadOrders(0, [.. Enumerable.Repeat(order, Replicates)], null);
    }

    /// <summary>One step for every replicate, on the same batch each time (its cost does not depend on the data).</summary>
    [Benchmark]
    public void TrainingStep()
    {
        model.ComputeGradients(0, model.Training.Batch);
        model.Update();
        device.Accelerator.Synchronize();
    }

    public LaunchCounts LaunchesPerOperation()
    {
        Setup();
        try
        {
            TrainingStep();
            var before = model.Counts;
            TrainingStep();
            return model.Counts - before;
        }
        finally
        {
            Cleanup();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        device.Dispose();
    }
}
