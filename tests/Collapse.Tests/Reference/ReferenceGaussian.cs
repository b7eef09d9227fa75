namespace Collapse.Tests.Reference;

/// <summary>
/// Plain float64 references for the Gaussian kernels, written for clarity, not speed.
/// Matrices are double[d, d]; point sets double[m][d].
/// </summary>
public static class ReferenceGaussian
{
    public static double[] Mean(double[][] points)
    {
        var d = points[0].Length;
        var mean = new double[d];
        foreach (var x in points)
            for (var j = 0; j < d; j++) mean[j] += x[j];
        for (var j = 0; j < d; j++) mean[j] /= points.Length;
        return mean;
    }

    /// <summary>Σ (x − x̄)(x − x̄)ᵀ; the MLE covariance is this divided by m.</summary>
    public static double[,] Scatter(double[][] points)
    {
        var d = points[0].Length;
        var mean = Mean(points);
        var s = new double[d, d];
        foreach (var x in points)
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++)
                    s[i, j] += (x[i] - mean[i]) * (x[j] - mean[j]);
        return s;
    }

    /// <summary>log det of a symmetric positive definite matrix by unpivoted Cholesky.</summary>
    public static double LogDet(double[,] a)
    {
        var d = a.GetLength(0);
        var l = new double[d, d];
        var logDet = 0.0;
        for (var j = 0; j < d; j++)
        {
            var s = a[j, j];
            for (var k = 0; k < j; k++) s -= l[j, k] * l[j, k];
            if (s <= 0) throw new ArgumentException("not positive definite");
            l[j, j] = Math.Sqrt(s);
            logDet += 2 * Math.Log(l[j, j]);
            for (var i = j + 1; i < d; i++)
            {
                var t = a[i, j];
                for (var k = 0; k < j; k++) t -= l[i, k] * l[j, k];
                l[i, j] = t / l[j, j];
            }
        }
        return logDet;
    }

    /// <summary>F·Fᵀ from a factor stored transposed: rows of factorT are the columns of F.</summary>
    public static double[,] FromFactorT(double[] factorT, int offset, int d, int ld, int rank)
    {
        var s = new double[d, d];
        for (var k = 0; k < rank; k++)
            for (var i = 0; i < d; i++)
                for (var j = 0; j < d; j++)
                    s[i, j] += factorT[offset + k * ld + i] * factorT[offset + k * ld + j];
        return s;
    }

    public static double MaxAbsDifference(double[,] a, double[,] b)
    {
        var max = 0.0;
        for (var i = 0; i < a.GetLength(0); i++)
            for (var j = 0; j < a.GetLength(1); j++)
                max = Math.Max(max, Math.Abs(a[i, j] - b[i, j]));
        return max;
    }

    public static double MaxAbs(double[,] a)
    {
        var max = 0.0;
        foreach (var v in a) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}
