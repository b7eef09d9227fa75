using Collapse.Kernels.Kde;

namespace Collapse.Performance.Workloads;

/// <summary>
/// KDE scoring: every test point's log-sum-exp against m fitted points, for R replicates (the
/// paper scores 500 test points). Work is counted in (test, fitted) pairs.
/// </summary>
public sealed class KdeScoreWorkload : IKernelWorkload
{
    readonly KdeKernels kernels;
    readonly Accelerator accelerator;
    readonly int dim, testCount, fittedCount, replicates;
    readonly double bandwidth;
    readonly MemoryBuffer1D<double, Stride1D.Dense> test, fitted, state;
    readonly double[] hostTest, hostFitted;

    /// <param name="skipTolerance">The CPU path's bound on skipped terms (<see cref="KdeKernels.SkipTolerance"/>; 0 scores every pair).</param>
    public KdeScoreWorkload(Accelerator accelerator, KernelPath path, int dim, int testCount, int fittedCount, int replicates, double bandwidth,
        double skipTolerance = Kernels.Cpu.SimdKde.DefaultTolerance)
    {
        this.accelerator = accelerator;
        kernels = new KdeKernels(accelerator, path) { SkipTolerance = skipTolerance };
        (this.dim, this.testCount, this.fittedCount, this.replicates, this.bandwidth) = (dim, testCount, fittedCount, replicates, bandwidth);
        hostTest = HostData.Points(replicates, testCount, dim, dim, 1);
        hostFitted = HostData.Points(replicates, fittedCount, dim, dim, 2);
        test = accelerator.Allocate1D(hostTest);
        fitted = accelerator.Allocate1D(hostFitted);
        state = accelerator.Allocate1D<double>(2L * replicates * testCount);
    }

    public static Work WorkFor(int testCount, int fittedCount, int replicates) => new((double)replicates * testCount * fittedCount, WorkUnit.Pair);

    public Work Work => WorkFor(testCount, fittedCount, replicates);

    public void Run()
    {
        kernels.Reset(state.View);
        kernels.Accumulate(replicates, dim, test.View, testCount, fitted.View, (long)fittedCount * dim, fittedCount, bandwidth, state.View);
        accelerator.Synchronize();
    }

    public void RunReference()
    {
        var inverseTwoH2 = 1.0 / (2 * bandwidth * bandwidth);
        for (var r = 0; r < replicates; r++)
        {
            var points = hostFitted.AsSpan(r * fittedCount * dim, fittedCount * dim);
            for (var t = 0; t < testCount; t++)
                PlainKde.LogSumExp(hostTest.AsSpan((r * testCount + t) * dim, dim), points, fittedCount, dim, inverseTwoH2);
        }
    }

    public void Dispose()
    {
        test.Dispose();
        fitted.Dispose();
        state.Dispose();
    }
}

/// <summary>KDE sampling: count points per replicate, each a uniformly chosen fitted point plus N(0, h²I). Work: points drawn.</summary>
public sealed class KdeSampleWorkload : IKernelWorkload
{
    readonly KdeKernels kernels;
    readonly Accelerator accelerator;
    readonly int dim, fittedCount, count, replicates;
    readonly double bandwidth;
    readonly MemoryBuffer1D<double, Stride1D.Dense> fitted, output;
    readonly double[] hostFitted, hostOutput;
    readonly RandomStream choices = new(1, 0, 2, 4), noise = new(1, 0, 2, 5);

    public KdeSampleWorkload(Accelerator accelerator, KernelPath path, int dim, int fittedCount, int count, int replicates, double bandwidth)
    {
        this.accelerator = accelerator;
        kernels = new KdeKernels(accelerator, path);
        (this.dim, this.fittedCount, this.count, this.replicates, this.bandwidth) = (dim, fittedCount, count, replicates, bandwidth);
        hostFitted = HostData.Points(replicates, fittedCount, dim, dim, 2);
        fitted = accelerator.Allocate1D(hostFitted);
        output = accelerator.Allocate1D<double>((long)replicates * count * dim);
        hostOutput = new double[count * dim];
    }

    public static Work WorkFor(int count, int replicates) => new((double)replicates * count, WorkUnit.Sample);

    public Work Work => WorkFor(count, replicates);

    public void Run()
    {
        kernels.Sample(choices, noise, 0, replicates, dim, fitted.View, (long)fittedCount * dim, fittedCount, bandwidth, count, output.View);
        accelerator.Synchronize();
    }

    public void RunReference()
    {
        for (var r = 0; r < replicates; r++)
            PlainKde.Sample(choices.ForReplicate((uint)r), noise.ForReplicate((uint)r), hostFitted.AsSpan(r * fittedCount * dim, fittedCount * dim),
                fittedCount, dim, bandwidth, count, hostOutput);
    }

    public void Dispose()
    {
        fitted.Dispose();
        output.Dispose();
    }
}
