namespace Collapse.Engine.Scenarios.Policies;

/// <summary>Accumulate: each fit sees everything so far, t·n records at iteration t, through the family's accumulation.</summary>
public sealed class AccumulatePolicy : ScenarioPolicy
{
    public static readonly AccumulatePolicy Instance = new();

    public override Setting Setting => Setting.Accumulate;

    public override IChainFit<TBatch> Start<TBatch>(IModelFamily<TBatch> family, int n, int iterations)
    {
        var accumulation = family.BeginAccumulation((long)n * iterations);
        return new ChainFit<TBatch>((newest, _) => accumulation.AddAndFit(newest), accumulation);
    }
}
