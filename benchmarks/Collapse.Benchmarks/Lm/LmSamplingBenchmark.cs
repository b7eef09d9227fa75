using Collapse.Engine.Data;
using Collapse.Kernels.Lm;

namespace Collapse.Benchmarks.Lm;

[BenchmarkQuestion("How many names per second does autoregressive sampling (temperature 1, the prefix rerun at every position, " +
                   "as makemore generates) draw from the makemore preset, 16 names per replicate, for 1 and 4 replicates?")]
public class LmSamplingBenchmark : KernelBenchmark
{
    public const int Names = 16;

    [Params(1, 4)]
    public int Replicates { get; set; }

    /// <summary>The kernels' version: the target's own (the CPU path on <c>cpu</c>), or plain or shaped on any target.</summary>
    [ParamsAllValues]
    public LmKernelVersion Version { get; set; }

    static readonly CharCorpus Corpus = CharCorpus.Names();

    public override Work WorkPerOperation => LmSamplingWorkload.WorkFor(Names, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new LmSamplingWorkload(accelerator, path, GptPreset.Makemore, Corpus.VocabularySize, Corpus.BlockSize, Replicates, Names, Version.Requested());
}
