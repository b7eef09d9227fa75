using Collapse.Engine.Data;
using Collapse.Kernels.Lm;

namespace Collapse.Benchmarks.Lm;

[BenchmarkQuestion("How fast does each transformer operation (forward and backward) and the AdamW step run at the makemore " +
                   "preset's training shape (batch 32 × 16 positions, width 64, 4 heads, 27 characters), for 1 and 8 replicates " +
                   "in one launch, in every kernel version (the target's own, the plain ILGPU kernels, the GPU-shaped ones), " +
                   "against the plain float64 reference run replicate by replicate?")]
public class LmOperationBenchmark : KernelBenchmark
{
    [ParamsAllValues]
    public LmOperation Operation { get; set; }

    [Params(1, 8)]
    public int Replicates { get; set; }

    /// <summary>The kernels' version: the target's own (the CPU path on <c>cpu</c>), or plain or shaped on any target.</summary>
    [ParamsAllValues]
    public LmKernelVersion Version { get; set; }

    static readonly CharCorpus Names = CharCorpus.Names();

    public override Work WorkPerOperation => LmOperationWorkload.WorkFor(Operation,
        GptPreset.Makemore.Config(Names.VocabularySize, Names.BlockSize), GptPreset.Makemore.Training.Batch, Replicates);

    protected override IKernelWorkload Create(Accelerator accelerator, KernelPath path) =>
        new LmOperationWorkload(accelerator, path, Operation, GptPreset.Makemore, Names.VocabularySize, Names.BlockSize, Replicates, Version.Requested());
}
