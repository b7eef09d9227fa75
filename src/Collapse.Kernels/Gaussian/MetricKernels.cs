using ILGPU;

namespace Collapse.Kernels.Gaussian;

/// <summary>The per-replicate numbers the paper's metrics need, reduced on the device so only 2·R doubles come back.</summary>
static class MetricKernels
{
    /// <summary>output[r] = (‖μ_r‖², tr Σ_r = Σ_k ‖row k of FT_r‖²). One thread per replicate.</summary>
    public static void MeanNormAndTrace(Index1D thread, ArrayView<double> mean, ArrayView<double> factorT, ArrayView<int> rank,
        int replicates, int d, int ld, ArrayView<double> output, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
        {
            var norm = 0.0;
            for (var j = 0; j < d; j++) norm += mean[(long)r * d + j] * mean[(long)r * d + j];
            var trace = 0.0;
            for (var k = 0; k < rank[r]; k++)
                for (var j = 0; j < d; j++)
                {
                    var f = factorT[(long)r * d * ld + (long)k * ld + j];
                    trace += f * f;
                }
            output[2L * r] = norm;
            output[2L * r + 1] = trace;
        }
    }
}
