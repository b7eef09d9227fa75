using Collapse.Engine.Families;
using Collapse.Engine.Data;
using Collapse.Engine.Families.Gaussian;
using Collapse.Engine.Families.Kde;
using Collapse.Engine.Families.Points;
using Collapse.Engine.Scenarios;
using Collapse.Kernels.Gaussian;
using Collapse.Kernels.Kde;
using Collapse.Kernels.Points;

namespace Collapse.Performance.Workloads;

/// <summary>
/// One scenario iteration (draw, fit as the setting says, metrics) for R replicates at once, the
/// step a sweep repeats. Work: R replicate-iterations per run.
/// <para>
/// Chains restart every <see cref="ChainLength"/> iterations, so Accumulate-Subsample's pool stays
/// bounded in memory however many runs a benchmark makes. An iteration's cost does not depend on
/// t (Accumulate merges statistics; the subsample draws n indices whatever the pool's size; the
/// real data of a restart cost what a generation's samples do), so every run times the same work.
/// </para>
/// </summary>
public static class ScenarioIterationWorkload
{
    public const int ChainLength = 10;

    /// <summary>The Gaussian family's step at dimension d with n points per generation (the data method, as the paper).</summary>
    public static IWorkload Gaussian(Accelerator accelerator, KernelPath path, Setting setting, int dim, int n, int replicates) =>
        new ScenarioIterationWorkload<PointsBatch>(new GaussianFamily(accelerator, new GaussianKernels(accelerator, path), dim, replicates, 0, 1), setting, n);

    /// <summary>The KDE family's step on a dataset at a fixed bandwidth (Accumulate then scores only each new generation).</summary>
    public static IWorkload Kde(Accelerator accelerator, KernelPath path, Setting setting, ToyDataset dataset, double bandwidth,
        int n, int replicates)
    {
        var kernels = new KdeKernels(accelerator, path);
        var points = new PointKernels(accelerator, new RandomKernels(accelerator), kernels.UsesSimd);
        return new ScenarioIterationWorkload<PointsBatch>(new KdeFamily(accelerator, kernels, points, dataset, Bandwidth.Of(bandwidth), replicates, 0, 1, testSize: 500,
            fittedCapacity: (long)n * ChainLength), setting, n);
    }

    /// <summary>The regression family's step at dimension d, n design rows and noise variance σ² (1,000 test points, as the authors).</summary>
    public static IWorkload Regression(Accelerator accelerator, KernelPath path, Setting setting, int dim, int n, double noiseVariance, int replicates)
    {
        var buffers = new PointBuffers(accelerator);
        return new ScenarioIterationWorkload<Engine.Families.Regression.LabelsBatch>(
            new Engine.Families.Regression.RegressionFamily(new Kernels.Regression.RegressionKernels(accelerator, path), buffers, dim, n, noiseVariance, 1000,
                replicates, 0, 1), setting, n, buffers);
    }

    public static Work WorkFor(int replicates) => new(replicates, WorkUnit.ReplicateIteration);
}

/// <summary>The workload for one family: a chain of <see cref="ScenarioIterationWorkload.ChainLength"/> iterations, one step per run.</summary>
/// <param name="owned">Disposed after the family (what the family allocates from, when the workload made it).</param>
public sealed class ScenarioIterationWorkload<TBatch>(IModelFamily<TBatch> family, Setting setting, int n, IDisposable? owned = null) : IWorkload where TBatch : class, IDataBatch
{
    ScenarioChain<TBatch>? chain;

    public Work Work => ScenarioIterationWorkload.WorkFor(family.Replicates);

    public void Run()
    {
        if (chain is null || chain.Iteration == chain.Iterations)
        {
            chain?.Dispose();
            chain = new ScenarioChain<TBatch>(setting, family, n, ScenarioIterationWorkload.ChainLength);
        }
        chain.Step();
    }

    public void Dispose()
    {
        chain?.Dispose();
        family.Dispose();
        owned?.Dispose();
    }
}
