namespace Collapse.Engine.Families.Gaussian;

/// <summary>The paper's three Gaussian metrics (and log det beside det, which underflows for large d).</summary>
public static class GaussianMetrics
{
    public static readonly Metric SquaredErrorMean = new("squared_error_mean", 0);
    public static readonly Metric DetRatio = new("det_ratio", 1);
    public static readonly Metric LogDetRatio = new("log_det_ratio", 2);
    public static readonly Metric TraceRatio = new("trace_ratio", 3);
    public static readonly MetricSet All = new(SquaredErrorMean, DetRatio, LogDetRatio, TraceRatio);
}
