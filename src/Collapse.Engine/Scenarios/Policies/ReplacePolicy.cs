namespace Collapse.Engine.Scenarios.Policies;

/// <summary>Replace: each fit sees only the newest n records (the real data at t = 1).</summary>
public sealed class ReplacePolicy : ScenarioPolicy
{
    public static readonly ReplacePolicy Instance = new();

    public override Setting Setting => Setting.Replace;

    public override IChainFit<TBatch> Start<TBatch>(IModelFamily<TBatch> family, int n, int iterations) =>
        new ChainFit<TBatch>((newest, _) => family.Fit(newest));
}
