using Collapse.Kernels.Cpu;

namespace Collapse.Performance.Workloads;

/// <summary>
/// Standard normals, <c>perReplicate</c> for each of R replicates (the data method draws n·d per
/// replicate and iteration). On the CPU path AVX2 fills each replicate's stream, one worker per
/// core; elsewhere the ILGPU kernel. The peer is the scalar definition, <see cref="Philox.Normal"/>
/// (normals are float32 by design; all three give the same bits).
/// </summary>
public sealed class NormalsWorkload : IKernelWorkload
{
    readonly Accelerator accelerator;
    readonly RandomKernels kernels;
    readonly bool simd;
    readonly int perReplicate, replicates;
    readonly MemoryBuffer1D<float, Stride1D.Dense> buffer;
    readonly float[] host;
    readonly RandomStream stream = new(1, 0, 2, 2);

    public NormalsWorkload(Accelerator accelerator, KernelPath path, int perReplicate, int replicates)
    {
        this.accelerator = accelerator;
        kernels = new RandomKernels(accelerator);
        simd = path == KernelPath.Auto && accelerator.AcceleratorType == AcceleratorType.CPU && SimdNormals.IsSupported;
        this.perReplicate = perReplicate;
        this.replicates = replicates;
        buffer = accelerator.Allocate1D<float>((long)perReplicate * replicates);
        host = new float[(long)perReplicate * replicates];
    }

    public static Work WorkFor(int perReplicate, int replicates) => new((double)perReplicate * replicates, WorkUnit.Sample);

    public Work Work => WorkFor(perReplicate, replicates);

    public void Run()
    {
        if (simd)
        {
            Parallel.For(0, replicates, CpuParallel.OneWorkerPerCore, r =>
                SimdNormals.Fill(stream.ForReplicate((uint)r), 0, host.AsSpan(r * perReplicate, perReplicate)));
            return;
        }
        kernels.Normals(stream, 0, replicates, perReplicate, buffer.View);
        accelerator.Synchronize();
    }

    public void RunReference()
    {
        for (var r = 0; r < replicates; r++)
        {
            var replicateStream = stream.ForReplicate((uint)r);
            for (var i = 0; i < perReplicate; i++) host[r * perReplicate + i] = Philox.Normal(replicateStream, (ulong)i);
        }
    }

    public void Dispose() => buffer.Dispose();
}
