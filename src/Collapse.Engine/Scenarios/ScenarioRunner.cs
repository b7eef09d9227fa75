namespace Collapse.Engine.Scenarios;

/// <summary>
/// One model-fitting chain (iterations 1..T) for every replicate of a family batch, one
/// <see cref="Step"/> at a time. The chain owns the order of the calls: at iteration t it takes
/// the newest records (the real data at t = 1, else the previous fit's sample), fits what the
/// policy says, samples the next generation from the new fit (iteration t + 1's streams), and
/// evaluates the fit with that sample beside it. The families do all the numerics.
/// </summary>
public sealed class ScenarioChain<TBatch> : IDisposable where TBatch : class, IDataBatch
{
    readonly IModelFamily<TBatch> family;
    readonly IChainFit<TBatch> fit;
    readonly int n;
    readonly bool sampleAfterLast;
    TBatch? next;

    /// <param name="sampleAfterLast">Also sample after the last iteration (a caller that shows the last fit's samples); families that score their own sample always do.</param>
    public ScenarioChain(Setting setting, IModelFamily<TBatch> family, int n, int iterations, bool sampleAfterLast = false)
    {
        var policy = ScenarioPolicy.For(setting);
        if (policy.Refusal(family.Capabilities) is { } why)
            throw new NotSupportedException($"setting {setting.Name()} cannot run here: {why}");
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "at least one record per generation");
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "at least one iteration");
        (this.family, this.n, Iterations, Setting) = (family, n, iterations, setting);
        this.sampleAfterLast = sampleAfterLast || family.Capabilities.ScoresOwnSample;
        Metrics = new MetricTable(family.Replicates, family.Metrics);
        fit = policy.Start(family, n, iterations);
    }

    public Setting Setting { get; }
    public int Iterations { get; }

    /// <summary>The last iteration run (0 before the first step).</summary>
    public int Iteration { get; private set; }

    /// <summary>The metrics of <see cref="Iteration"/>'s fit.</summary>
    public MetricTable Metrics { get; }

    /// <summary>
    /// What <see cref="Iteration"/>'s fit sampled: the next iteration's synthetic data (null after
    /// the last iteration unless it was asked for). Owned by the chain.
    /// </summary>
    public TBatch? NextGeneration => next;

    /// <summary>Runs iteration <see cref="Iteration"/> + 1.</summary>
    public void Step()
    {
        if (Iteration == Iterations) throw new InvalidOperationException($"the chain has run all {Iterations} iterations");
        var t = ++Iteration;
        var newest = t == 1 ? family.DrawReal(n) : next!;
        next = null;
        using (newest) fit.Fit(newest, t);
        if (t < Iterations || sampleAfterLast) next = family.Sample(n, t + 1);
        family.Evaluate(Metrics, next);
    }

    public void Dispose()
    {
        next?.Dispose();
        next = null;
        fit.Dispose();
    }
}

/// <summary>Runs whole chains (<see cref="ScenarioChain{TBatch}"/>).</summary>
public static class ScenarioRunner
{
    /// <param name="onIteration">Called after each iteration with the chain (its <see cref="ScenarioChain{TBatch}.Iteration"/>, metrics and next generation).</param>
    public static void Run<TBatch>(Setting setting, IModelFamily<TBatch> family, int n, int iterations,
        Action<ScenarioChain<TBatch>> onIteration, CancellationToken cancellation = default, bool sampleAfterLast = false)
        where TBatch : class, IDataBatch
    {
        using var chain = new ScenarioChain<TBatch>(setting, family, n, iterations, sampleAfterLast);
        while (chain.Iteration < iterations)
        {
            cancellation.ThrowIfCancellationRequested();
            chain.Step();
            onIteration(chain);
        }
    }
}
