namespace Collapse.Tests.Reference;

/// <summary>Plain float64 Gaussian KDE, written for clarity: log p(t) by a two-pass log-sum-exp.</summary>
public static class ReferenceKde
{
    public static double LogDensity(double[] t, double[][] fitted, double h)
    {
        var v = fitted.Select(x => -x.Zip(t, (a, b) => (a - b) * (a - b)).Sum() / (2 * h * h)).ToArray();
        var max = v.Max();
        var logSum = max + Math.Log(v.Sum(value => Math.Exp(value - max)));
        return logSum - Math.Log(fitted.Length) - 0.5 * t.Length * Math.Log(2 * Math.PI * h * h);
    }

    public static double MeanNegativeLogLikelihood(double[][] test, double[][] fitted, double h) =>
        -test.Average(t => LogDensity(t, fitted, h));
}
