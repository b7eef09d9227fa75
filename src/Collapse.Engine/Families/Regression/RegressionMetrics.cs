namespace Collapse.Engine.Families.Regression;

/// <summary>
/// The linear-regression metrics. <see cref="TestMse"/> is the authors' metric: the mean squared
/// error of x·ŵ against the noiseless x·w* over the seed's test points. <see cref="WeightError"/>,
/// ‖ŵ − w*‖², is its expectation over test sets (E x xᵀ = I), the quantity the exact theory gives.
/// </summary>
public static class RegressionMetrics
{
    public static readonly Metric TestMse = new("test_mse", 0);
    public static readonly Metric WeightError = new("weight_error", 1);
    public static readonly MetricSet All = new(TestMse, WeightError);
}
