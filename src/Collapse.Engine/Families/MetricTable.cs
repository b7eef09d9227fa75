namespace Collapse.Engine.Families;

/// <summary>One metric a family reports: its CSV column name and its place in the family's <see cref="MetricSet"/>.</summary>
public sealed class Metric(string name, int index)
{
    public string Name { get; } = name;
    public int Index { get; } = index;
    public override string ToString() => Name;
}

/// <summary>A family's metrics in order; metric k has <see cref="Metric.Index"/> k.</summary>
public sealed class MetricSet
{
    readonly Metric[] metrics;

    public MetricSet(params Metric[] metrics)
    {
        for (var k = 0; k < metrics.Length; k++)
            if (metrics[k].Index != k) throw new ArgumentException($"metric {metrics[k].Name} has index {metrics[k].Index}, not its place {k}", nameof(metrics));
        this.metrics = metrics;
    }

    public int Count => metrics.Length;
    public Metric this[int index] => metrics[index];
    public IReadOnlyList<string> Names => [.. metrics.Select(m => m.Name)];

    /// <summary>Whether <paramref name="metric"/> is this set's own (not another family's metric at the same index).</summary>
    public bool Contains(Metric metric) => metric.Index < metrics.Length && ReferenceEquals(metrics[metric.Index], metric);
}

/// <summary>Every replicate's value of each metric of one <see cref="MetricSet"/>, read and written by name.</summary>
public sealed class MetricTable(int replicates, MetricSet metrics)
{
    readonly double[] values = new double[replicates * metrics.Count];

    public int Replicates { get; } = replicates;
    public MetricSet Metrics { get; } = metrics;

    public double this[int replicate, Metric metric]
    {
        get => values[Slot(replicate, metric)];
        set => values[Slot(replicate, metric)] = value;
    }

    int Slot(int replicate, Metric metric)
    {
        if (!Metrics.Contains(metric)) throw new ArgumentException($"{metric.Name} is not one of this table's metrics ({string.Join(", ", Metrics.Names)})", nameof(metric));
        if ((uint)replicate >= (uint)Replicates) throw new ArgumentOutOfRangeException(nameof(replicate), replicate, $"0 … {Replicates - 1}");
        return replicate * Metrics.Count + metric.Index;
    }
}
