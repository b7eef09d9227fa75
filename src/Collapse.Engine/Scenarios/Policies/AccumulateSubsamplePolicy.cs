namespace Collapse.Engine.Scenarios.Policies;

/// <summary>
/// Accumulate-Subsample: the pool grows as in Accumulate, but each fit sees n records drawn from it
/// without replacement (iteration t's subsample stream).
/// </summary>
public sealed class AccumulateSubsamplePolicy : ScenarioPolicy
{
    public static readonly AccumulateSubsamplePolicy Instance = new();

    public override Setting Setting => Setting.AccumulateSubsample;

    public override string? Refusal(FamilyCapabilities capabilities) =>
        capabilities.Pools ? null : "the family draws no records to pool and subsample" + (capabilities.ExactSimulation ? " (it simulates sufficient statistics exactly)" : "");

    public override IChainFit<TBatch> Start<TBatch>(IModelFamily<TBatch> family, int n, int iterations)
    {
        var pool = family.CreatePool((long)n * iterations);
        return new ChainFit<TBatch>((newest, t) =>
        {
            pool.Add(newest);
            using var subsample = pool.Subsample(n, t);
            family.Fit(subsample);
        }, pool);
    }
}
