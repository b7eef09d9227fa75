using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

/// <summary>
/// The parameter vector every kernel reads its weights from: [R][Count] floats, replicate r's
/// tensor at r·Count + offset (see <see cref="GptLayout"/>).
/// </summary>
public readonly record struct ReplicatedParameters(ArrayView<float> View, long Count);

/// <summary>Which version of the transformer's operations a <see cref="LmKernels"/> runs (one for all of them).</summary>
public enum LmVersion
{
    /// <summary>The CPU path: AVX2/FMA matrix products and pointer C# on host threads (a CPU accelerator only).</summary>
    Cpu,
    /// <summary>The plain ILGPU kernels: one thread per output number or row, grid-stride, one launch per step of each operation.</summary>
    Plain,
    /// <summary>
    /// The shaped ILGPU kernels: fused operations, fewer launches; on GPUs tiled products in shared memory and group reductions,
    /// on CPU devices (ILGPU's CPU accelerator, PoCL) register-blocked products without shared memory or barriers.
    /// </summary>
    Shaped,
}

/// <summary>
/// Launchers for the transformer's operations, one file per operation in <c>Lm/Ops/</c> (its kernels,
/// its CPU path and its launcher together). Every method serves all R replicates (separate weights,
/// separate data) in one launch; activations are compact [R][rows][width] views of exactly the
/// current shape. <see cref="Version"/> picks the version of every operation (<see cref="Choose"/>).
/// </summary>
public sealed unsafe partial class LmKernels
{
    readonly Accelerator accelerator;
    public Accelerator Accelerator => accelerator;

    /// <summary>The version of the operations this instance runs.</summary>
    public LmVersion Version { get; }

    /// <summary>True on the CPU path (<see cref="LmVersion.Cpu"/>).</summary>
    public bool UsesSimd => Version == LmVersion.Cpu;

    /// <summary>Kernel methods run on host threads instead of through ILGPU (the CPU path's light kernels).</summary>
    bool OnHost => Version == LmVersion.Cpu;

    readonly Action<Index1D, GatherArgs, int> gatherRows;
    readonly Action<Index1D, EncoderArgs, int> encoderForward, encoderForwardAt;
    readonly Action<Index1D, EncoderBackwardArgs, int> encoderBackwardToken, encoderBackwardPosition;
    readonly Action<Index1D, LayerNormForwardArgs, int> layerNormForward;
    readonly Action<Index1D, LayerNormBackwardArgs, int> layerNormBackwardInput, layerNormBackwardParameters;
    readonly Action<Index1D, MatMulForwardArgs, int> matMulForward;
    readonly Action<Index1D, MatMulBackwardArgs, int> matMulBackwardInput, matMulBackwardWeight;
    readonly Action<Index1D, AttentionArgs, int> attentionForward, attentionForwardCached;
    readonly Action<Index1D, AttentionBackwardArgs, int> attentionBackwardScores, attentionBackwardQkv;
    readonly Action<Index1D, ElementwiseArgs, int> geluForward, geluBackward, residualForward;
    readonly Action<Index1D, CrossEntropyArgs, int> countTargets, crossEntropy, sumLosses;
    readonly Action<Index1D, AdamWArgs, int> normPartials, clipScale, adamW;
    readonly Action<Index1D, SamplerArgs, int> sampleStep;
    readonly Action<KernelConfig, AttentionArgs> shapedAttentionForward;
    readonly Action<KernelConfig, MatMulForwardArgs> tiledMatMulForward;
    readonly Action<KernelConfig, MatMulBackwardArgs> tiledMatMulBackward;
    readonly Action<Index1D, MatMulForwardArgs, int>? blockedMatMulForward;
    readonly Action<Index1D, MatMulBackwardArgs, int>? blockedMatMulBackward;
    readonly Action<Index1D, EncoderBackwardArgs, int>? blockedEncoderBackward;
    readonly Action<Index1D, AttentionBackwardArgs, int>? blockedAttentionBackward;
    readonly Action<Index1D, LayerNormBackwardArgs, int>? blockedLayerNormBackward;
    readonly Action<KernelConfig, EncoderBackwardArgs> groupedEncoderBackward;
    readonly Action<KernelConfig, LayerNormBackwardArgs> groupedLayerNormBackward;
    readonly Action<KernelConfig, AttentionBackwardArgs> groupedAttentionBackward;
    readonly Action<KernelConfig, CrossEntropyArgs> groupedCrossEntropy;

    // The dispatch table: which version of each operation runs, chosen once from Version (see the constructor).
    readonly Action<EncoderArgs> encoderForwardOp;
    readonly Action<EncoderBackwardArgs> encoderBackwardOp;
    readonly Action<LayerNormForwardArgs> layerNormForwardOp;
    readonly Action<LayerNormBackwardArgs> layerNormBackwardOp;
    readonly Action<MatMulForwardArgs> matMulForwardOp;
    readonly Action<MatMulBackwardArgs> matMulBackwardOp;
    readonly Action<AttentionArgs> attentionForwardOp, attentionForwardCachedOp;
    readonly Action<AttentionBackwardArgs> attentionBackwardOp;
    readonly Action<ElementwiseArgs> geluForwardOp, geluBackwardOp, residualForwardOp;
    readonly Action<CrossEntropyArgs> crossEntropyLossOp;
    readonly Action<AdamWArgs> gradientNormOp, adamWOp;

    /// <param name="version">The version to run; null: <see cref="Choose"/>'s for the accelerator and path.</param>
    public LmKernels(Accelerator accelerator, KernelPath path = KernelPath.Auto, LmVersion? version = null)
    {
        this.accelerator = accelerator;
        Version = version ?? Choose(accelerator, path);
        if (Version == LmVersion.Cpu && !(accelerator.AcceleratorType == AcceleratorType.CPU && MatMulCpu.IsSupported))
            throw new ArgumentException($"the CPU path needs a CPU accelerator with AVX2 and FMA; this is {accelerator.AcceleratorType}" +
                (MatMulCpu.IsSupported ? "" : " on a processor without AVX2/FMA") + ": use the plain or shaped kernels");
        gatherRows = Load<GatherArgs>(BatchKernels.GatherRows);
        encoderForward = Load<EncoderArgs>(EmbeddingKernels.Forward);
        encoderForwardAt = Load<EncoderArgs>(EmbeddingKernels.ForwardAt);
        encoderBackwardToken = Load<EncoderBackwardArgs>(EmbeddingKernels.BackwardToken);
        encoderBackwardPosition = Load<EncoderBackwardArgs>(EmbeddingKernels.BackwardPosition);
        layerNormForward = Load<LayerNormForwardArgs>(LayerNormKernels.Forward);
        layerNormBackwardInput = Load<LayerNormBackwardArgs>(LayerNormKernels.BackwardInput);
        layerNormBackwardParameters = Load<LayerNormBackwardArgs>(LayerNormKernels.BackwardParameters);
        matMulForward = Load<MatMulForwardArgs>(MatMulKernels.Forward);
        matMulBackwardInput = Load<MatMulBackwardArgs>(MatMulKernels.BackwardInput);
        matMulBackwardWeight = Load<MatMulBackwardArgs>(MatMulKernels.BackwardWeight);
        attentionForward = Load<AttentionArgs>(AttentionKernels.Forward);
        attentionForwardCached = Load<AttentionArgs>(AttentionKernels.ForwardCached);
        attentionBackwardScores = Load<AttentionBackwardArgs>(AttentionKernels.BackwardScores);
        attentionBackwardQkv = Load<AttentionBackwardArgs>(AttentionKernels.BackwardQkv);
        geluForward = Load<ElementwiseArgs>(GeluKernels.Forward);
        geluBackward = Load<ElementwiseArgs>(GeluKernels.Backward);
        residualForward = Load<ElementwiseArgs>(ResidualKernels.Forward);
        countTargets = Load<CrossEntropyArgs>(CrossEntropyKernels.CountTargets);
        crossEntropy = Load<CrossEntropyArgs>(CrossEntropyKernels.ForwardBackward);
        sumLosses = Load<CrossEntropyArgs>(CrossEntropyKernels.SumLosses);
        normPartials = Load<AdamWArgs>(AdamWKernels.NormPartials);
        clipScale = Load<AdamWArgs>(AdamWKernels.ClipScale);
        adamW = Load<AdamWArgs>(AdamWKernels.Update);
        sampleStep = Load<SamplerArgs>(SamplerKernels.Step);
        // The shaped versions, loaded only where they run (their compilation costs seconds on the CPU accelerator).
        if (Version == LmVersion.Shaped)
        {
            // CPU devices (ILGPU's CPU accelerator, PoCL): grid-stride kernels with register-blocked sums, no groups, for the
            // operations whose GPU kernels lose there (BlockedMatMulKernels.Serves); GPUs: the tiled and grouped kernels.
            (shapedAttentionForward, tiledMatMulForward, tiledMatMulBackward) = (null!, null!, null!);
            (groupedEncoderBackward, groupedLayerNormBackward, groupedAttentionBackward) = (null!, null!, null!);
            var team = GroupedRows.DefaultTeam(accelerator);
            if (BlockedMatMulKernels.Serves(accelerator))
            {
                var groupSize = BlockedMatMulKernels.GroupSize(accelerator);
                blockedMatMulForward = Load<MatMulForwardArgs>(BlockedMatMulKernels.Forward, groupSize);
                blockedMatMulBackward = Load<MatMulBackwardArgs>(BlockedMatMulKernels.Backward, groupSize);
                blockedEncoderBackward = Load<EncoderBackwardArgs>(BlockedEmbeddingKernels.Backward, groupSize);
                blockedAttentionBackward = Load<AttentionBackwardArgs>(BlockedAttentionKernels.Backward, groupSize);
                blockedLayerNormBackward = Load<LayerNormBackwardArgs>(BlockedLayerNormKernels.Backward, groupSize);
            }
            else
            {
                shapedAttentionForward = LoadGrouped<AttentionArgs>(ShapedAttentionKernels.Forward);
                tiledMatMulForward = LoadGrouped<MatMulForwardArgs>(TiledMatMulKernels.Forward);
                tiledMatMulBackward = LoadGrouped<MatMulBackwardArgs>(TiledMatMulKernels.Backward);
                groupedEncoderBackward = LoadGrouped<EncoderBackwardArgs>(GroupedEmbeddingKernels.Backward);
                groupedLayerNormBackward = LoadGrouped(GroupedLayerNormKernels.Kernel(team));
                groupedAttentionBackward = LoadGrouped<AttentionBackwardArgs>(GroupedAttentionKernels.Backward);
            }
            groupedCrossEntropy = LoadGrouped(GroupedCrossEntropyKernels.Kernel(team));
        }
        else
        {
            (shapedAttentionForward, tiledMatMulForward, tiledMatMulBackward) = (null!, null!, null!);
            (groupedEncoderBackward, groupedLayerNormBackward, groupedAttentionBackward, groupedCrossEntropy) = (null!, null!, null!, null!);
        }

        // The table. Rows: operations; columns: the CPU path, the plain kernels, the GPU-shaped kernels. A plain entry
        // under "shaped" means the plain kernel already suits a GPU (element-wise, or one light launch). Operations
        // with one kernel in every version (the batch gather, the one-position encoder, the sampling step) launch it
        // directly; on the CPU path such kernels run on host threads (Load). Some shaped entries pick their kernel by device
        // inside: the products tiled on GPUs and register-blocked on CPU devices (BlockedMatMulKernels.Serves), the attention
        // forward grouped on GPUs only.
        //                                                      CPU path                    plain                          GPU-shaped
        encoderForwardOp = Pick<EncoderArgs>(                   EncoderForwardCpu,          EncoderForwardPlain,           EncoderForwardPlain);
        encoderBackwardOp = Pick<EncoderBackwardArgs>(          EncoderBackwardCpu,         EncoderBackwardPlain,          EncoderBackwardShaped);
        layerNormForwardOp = Pick<LayerNormForwardArgs>(        LayerNormForwardCpu,        LayerNormForwardPlain,         LayerNormForwardPlain);
        layerNormBackwardOp = Pick<LayerNormBackwardArgs>(      LayerNormBackwardCpu,       LayerNormBackwardPlain,        LayerNormBackwardShaped);
        matMulForwardOp = Pick<MatMulForwardArgs>(              MatMulForwardCpu,           MatMulForwardPlain,            MatMulForwardShaped);
        matMulBackwardOp = Pick<MatMulBackwardArgs>(            MatMulBackwardCpu,          MatMulBackwardPlain,           MatMulBackwardShaped);
        attentionForwardOp = Pick<AttentionArgs>(               AttentionForwardCpu,        AttentionForwardPlain,         AttentionForwardShaped);
        attentionForwardCachedOp = Pick<AttentionArgs>(         AttentionForwardCachedCpu,  AttentionForwardCachedPlain,   AttentionForwardCachedPlain);
        attentionBackwardOp = Pick<AttentionBackwardArgs>(      AttentionBackwardCpu,       AttentionBackwardPlain,        AttentionBackwardShaped);
        geluForwardOp = Pick<ElementwiseArgs>(                  GeluForwardCpu,             GeluForwardPlain,              GeluForwardPlain);
        geluBackwardOp = Pick<ElementwiseArgs>(                 GeluBackwardCpu,            GeluBackwardPlain,             GeluBackwardPlain);
        residualForwardOp = Pick<ElementwiseArgs>(              ResidualForwardCpu,         ResidualForwardPlain,          ResidualForwardPlain);
        crossEntropyLossOp = Pick<CrossEntropyArgs>(            CrossEntropyLossStepwise,   CrossEntropyLossStepwise,      CrossEntropyLossShaped);
        gradientNormOp = Pick<AdamWArgs>(                       GradientNormCpu,            GradientNormPlain,             GradientNormPlain);
        adamWOp = Pick<AdamWArgs>(                              AdamWCpuRanges,             AdamWPlain,                    AdamWPlain);
    }

    /// <summary>
    /// The version for an accelerator: the CPU path on a CPU accelerator with AVX2/FMA (unless the path forces
    /// ILGPU), the shaped kernels everywhere else: GPUs, PoCL's CPU device, where the shaped makemore step ran
    /// 2.0–2.2× faster than the plain one with the tiled products (results/benchmarks/amd-epyc-pocl) and ~3× with
    /// the blocked ones, and ILGPU's CPU accelerator, where the register-blocked products made the shaped step
    /// 3.4–3.5× the plain one (it was slower before them). The shaped kernels for CPU devices give the plain
    /// kernels' bits, so the choice changes no result; the plain version stays for the tests and benchmarks.
    /// </summary>
    public static LmVersion Choose(Accelerator accelerator, KernelPath path) =>
        accelerator.AcceleratorType == AcceleratorType.CPU && path == KernelPath.Auto && MatMulCpu.IsSupported ? LmVersion.Cpu
        : LmVersion.Shaped;

    /// <summary>The table's cell for <see cref="Version"/>.</summary>
    Action<T> Pick<T>(Action<T> cpu, Action<T> plain, Action<T> shaped) => Version switch
    {
        LmVersion.Cpu => cpu,
        LmVersion.Plain => plain,
        _ => shaped,
    };

    public void Synchronize() => accelerator.Synchronize();

    /// <summary>Host work below which a CPU operation runs on the calling thread (numbers touched).</summary>
    const long HostParallelWork = 32768;

    /// <summary>
    /// The CPU path's launch: [0, items) split into one contiguous range per core, or run on the
    /// calling thread when <paramref name="work"/> is small. Waits for queued copies first.
    /// </summary>
    void HostRanges(long items, long work, Action<long, long> body)
    {
        accelerator.Synchronize();
        var parts = (int)Math.Min(items, work < HostParallelWork ? 1 : Environment.ProcessorCount);
        if (parts <= 1)
        {
            body(0, items);
            return;
        }
        CpuParallel.For(parts, k => body(items * k / parts, items * (k + 1) / parts - items * k / parts));
    }

    /// <summary>Splits a range of [R][perReplicate] items into its per-replicate pieces: body(replicate, first item within it, count).</summary>
    static void ForEachReplicate(long first, long count, long perReplicate, Action<long, long, long> body)
    {
        var end = first + count;
        while (first < end)
        {
            var r = first / perReplicate;
            var within = first - r * perReplicate;
            var n = Math.Min(end - first, perReplicate - within);
            body(r, within, n);
            first += n;
        }
    }

    static float* Ptr(ArrayView<float> view) => (float*)view.LoadEffectiveAddressAsPtr();
    static int* IntPtr(ArrayView<int> view) => (int*)view.LoadEffectiveAddressAsPtr();
}
