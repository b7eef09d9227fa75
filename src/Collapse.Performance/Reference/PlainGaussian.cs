namespace Collapse.Performance.Reference;

/// <summary>
/// Plain float64 peers of the Gaussian kernels, one replicate per call, written for clarity: the
/// speed a straightforward C# loop reaches, which the benchmarks report each kernel against.
/// Points are [point][ld] with the first d entries used; matrices are d×d row-major.
/// </summary>
public static class PlainGaussian
{
    /// <summary>Mean and scatter Σ (x − x̄)(x − x̄)ᵀ of m points (the lower triangle computed, then mirrored).</summary>
    public static void Moments(ReadOnlySpan<double> points, int m, int d, int ld, Span<double> mean, Span<double> m2)
    {
        mean[..d].Clear();
        m2[..(d * d)].Clear();
        for (var p = 0; p < m; p++)
            for (var j = 0; j < d; j++) mean[j] += points[p * ld + j];
        for (var j = 0; j < d; j++) mean[j] /= m;
        for (var p = 0; p < m; p++)
            for (var i = 0; i < d; i++)
            {
                var ci = points[p * ld + i] - mean[i];
                for (var j = 0; j <= i; j++) m2[i * d + j] += ci * (points[p * ld + j] - mean[j]);
            }
        for (var i = 0; i < d; i++)
            for (var j = 0; j < i; j++) m2[j * d + i] = m2[i * d + j];
    }

    /// <summary>Unpivoted Cholesky of a / count into the lower triangle of l; returns log det. Throws if not positive definite.</summary>
    public static double Cholesky(ReadOnlySpan<double> a, double count, int d, Span<double> l)
    {
        var logDet = 0.0;
        for (var j = 0; j < d; j++)
        {
            var s = a[j * d + j] / count;
            for (var k = 0; k < j; k++) s -= l[j * d + k] * l[j * d + k];
            if (!(s > 0)) throw new ArgumentException("not positive definite");
            l[j * d + j] = Math.Sqrt(s);
            logDet += Math.Log(s);
            for (var i = j + 1; i < d; i++)
            {
                var t = a[i * d + j] / count;
                for (var k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
                l[i * d + j] = t / l[j * d + j];
            }
        }
        return logDet;
    }

    /// <summary>m points x = μ + L·z, z the normals p·d … p·d + d − 1 of <paramref name="stream"/>, into points [p][ld].</summary>
    public static void Sample(RandomStream stream, ReadOnlySpan<double> mean, ReadOnlySpan<double> l, int d, int m, int ld,
        Span<double> points, Span<double> z)
    {
        for (var p = 0; p < m; p++)
        {
            for (var k = 0; k < d; k++) z[k] = Philox.Normal(stream, (ulong)((long)p * d + k));
            for (var i = 0; i < d; i++)
            {
                var x = mean[i];
                for (var k = 0; k <= i; k++) x += l[i * d + k] * z[k];
                points[p * ld + i] = x;
            }
        }
    }
}
