using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>
/// Sufficient statistics of point sets, batched over replicates: mean and the scatter matrix
/// M2 = Σ (x − x̄)(x − x̄)ᵀ, both in double, and Chan's pairwise merge of two such summaries,
/// which lets Accumulate fit t·n points without revisiting them.
/// </summary>
static class MomentKernels
{
    /// <summary>mean[r, j] = Σ_p x[r, p, j] / m. Threads stride over (r, j).</summary>
    public static void Mean(Index1D thread, ArrayView<double> points, long replicateStride, int m, int d, int ld,
        ArrayView<double> mean, int stride)
    {
        for (long item = thread; item < mean.Length; item += stride)
        {
            var r = item / d;
            var j = item - r * d;
            var x = points.SubView(r * replicateStride, (long)m * ld);
            var sum = 0.0;
            for (var p = 0; p < m; p++) sum += x[(long)p * ld + j];
            mean[item] = sum / m;
        }
    }

    /// <summary>M2[r, i, j] = Σ_p (x_pi − x̄_i)(x_pj − x̄_j), centred first so a far-away mean costs no precision.</summary>
    public static void Scatter(Index1D thread, ArrayView<double> points, long replicateStride, int m, int d, int ld,
        ArrayView<double> mean, ArrayView<double> m2, int stride)
    {
        var dd = (long)d * d;
        for (long item = thread; item < m2.Length; item += stride)
        {
            var r = item / dd;
            var ij = item - r * dd;
            var i = (int)(ij / d);
            var j = (int)(ij - (long)i * d);
            var x = points.SubView(r * replicateStride, (long)m * ld);
            double mi = mean[r * d + i], mj = mean[r * d + j], sum = 0.0;
            for (var p = 0; p < m; p++) sum += (x[(long)p * ld + i] - mi) * (x[(long)p * ld + j] - mj);
            m2[item] = sum;
        }
    }

    /// <summary>
    /// Chan et al.'s merge, scatter part: M2_a += M2_b + δδᵀ·n_a·n_b/(n_a+n_b) with δ = x̄_b − x̄_a.
    /// Must run before <see cref="MergeMean"/>, which moves x̄_a.
    /// </summary>
    public static void MergeScatter(Index1D thread, ArrayView<double> meanA, ArrayView<double> m2A,
        ArrayView<double> meanB, ArrayView<double> m2B, double countA, double countB, int d, int stride)
    {
        var dd = (long)d * d;
        var weight = countA * countB / (countA + countB);
        for (long item = thread; item < m2A.Length; item += stride)
        {
            var r = item / dd;
            var ij = item - r * dd;
            var i = (int)(ij / d);
            var j = (int)(ij - (long)i * d);
            var di = meanB[r * d + i] - meanA[r * d + i];
            var dj = meanB[r * d + j] - meanA[r * d + j];
            m2A[item] += m2B[item] + di * dj * weight;
        }
    }

    /// <summary>Chan's merge, mean part: x̄_a += δ·n_b/(n_a+n_b).</summary>
    public static void MergeMean(Index1D thread, ArrayView<double> meanA, ArrayView<double> meanB,
        double countA, double countB, int stride)
    {
        var share = countB / (countA + countB);
        for (long item = thread; item < meanA.Length; item += stride)
            meanA[item] += (meanB[item] - meanA[item]) * share;
    }

    /// <summary>M2[r] = scale · F·Fᵀ from a transposed factor (rows of FT are columns of F).</summary>
    public static void ScatterFromFactor(Index1D thread, ArrayView<double> factorT, ArrayView<int> rank,
        int d, int ld, double scale, ArrayView<double> m2, int stride)
    {
        var dd = (long)d * d;
        for (long item = thread; item < m2.Length; item += stride)
        {
            var r = item / dd;
            var ij = item - r * dd;
            var i = (int)(ij / d);
            var j = (int)(ij - (long)i * d);
            var f = factorT.SubView(r * d * ld, (long)d * ld);
            var sum = 0.0;
            for (var k = 0; k < rank[r]; k++) sum += f[(long)k * ld + i] * f[(long)k * ld + j];
            m2[item] = scale * sum;
        }
    }
}
