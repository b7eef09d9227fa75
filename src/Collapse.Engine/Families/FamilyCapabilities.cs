namespace Collapse.Engine.Families;

/// <summary>What a model family can do, declared by the family and checked by the scenario runner.</summary>
public sealed record FamilyCapabilities
{
    /// <summary>Accumulate merges the newest data into running sufficient statistics, so an iteration costs O(n) whatever t is.</summary>
    public bool MergesAccumulated { get; init; }

    /// <summary>Its records can be pooled and subsampled without replacement (Accumulate-Subsample).</summary>
    public bool Pools { get; init; }

    /// <summary>It draws the exact sufficient statistics of n records instead of the records (the Wishart method).</summary>
    public bool ExactSimulation { get; init; }

    /// <summary>Some metrics describe the fitted models' own sample, so the runner also samples after the last iteration.</summary>
    public bool ScoresOwnSample { get; init; }
}
