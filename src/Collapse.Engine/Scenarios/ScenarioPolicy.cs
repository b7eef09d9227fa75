namespace Collapse.Engine.Scenarios;

/// <summary>
/// A setting as a data-pool policy: which data each fit of a chain sees. A policy never touches
/// the numerics; it only routes batches to <see cref="IModelFamily{TBatch}.Fit"/>, an
/// accumulation or a pool. Adding a setting is one class in <c>Policies/</c> plus its
/// <see cref="Setting"/> name.
/// </summary>
public abstract class ScenarioPolicy
{
    public abstract Setting Setting { get; }

    /// <summary>Why a family with these capabilities cannot run this policy; null when it can.</summary>
    public virtual string? Refusal(FamilyCapabilities capabilities) => null;

    /// <summary>The policy's state for one chain of <paramref name="iterations"/> iterations with n new records each.</summary>
    public abstract IChainFit<TBatch> Start<TBatch>(IModelFamily<TBatch> family, int n, int iterations) where TBatch : class, IDataBatch;

    public static ScenarioPolicy For(Setting setting) => setting switch
    {
        Setting.Replace => Policies.ReplacePolicy.Instance,
        Setting.Accumulate => Policies.AccumulatePolicy.Instance,
        Setting.AccumulateSubsample => Policies.AccumulateSubsamplePolicy.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, null),
    };
}

/// <summary>One chain's fitting under a policy: given iteration t's newest records, fit what the policy says.</summary>
public interface IChainFit<TBatch> : IDisposable where TBatch : IDataBatch
{
    void Fit(TBatch newest, int iteration);
}

/// <summary>A chain fit from a function and the state it owns (disposed with it).</summary>
public sealed class ChainFit<TBatch>(Action<TBatch, int> fit, IDisposable? state = null) : IChainFit<TBatch> where TBatch : IDataBatch
{
    public void Fit(TBatch newest, int iteration) => fit(newest, iteration);
    public void Dispose() => state?.Dispose();
}
