using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>Sampling from the fitted Gaussians and moving points between buffers.</summary>
static class SampleKernels
{
    /// <summary>
    /// x[r, p, j] = μ[r, j] + Σ_{k &lt; rank} z[r, p·d + k] · FT[r, k, j]: only the fitted
    /// directions get noise, so a singular fit samples inside its subspace. Threads stride over (r, p, j).
    /// </summary>
    public static void Transform(Index1D thread, ArrayView<double> mean, ArrayView<double> factorT, ArrayView<int> rank,
        ArrayView<float> normals, int m, int d, int ld, ArrayView<double> points, long replicateStride,
        long total, int stride)
    {
        var perReplicate = (long)m * d;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / perReplicate;
            var pj = item - r * perReplicate;
            var p = pj / d;
            var j = (int)(pj - p * d);
            var f = factorT.SubView(r * d * ld, (long)d * ld);
            var z = normals.SubView(r * perReplicate + p * d, d);
            var x = mean[r * d + j];
            var k = rank[r];
            for (var c = 0; c < k; c++) x += z[c] * f[(long)c * ld + j];
            points[r * replicateStride + p * ld + j] = x;
        }
    }
}
