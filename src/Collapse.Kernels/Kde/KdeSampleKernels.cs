using Collapse.Kernels.Random;
using ILGPU;

namespace Collapse.Kernels.Kde;

/// <summary>Sampling from a Gaussian KDE: a uniformly chosen fitted point plus N(0, h²I).</summary>
static class KdeSampleKernels
{
    /// <summary>
    /// Threads stride over (replicate, sample). Sample p of replicate r takes fitted point
    /// UniformInt(m) number p of <paramref name="choices"/> and adds h times normals p·d … p·d + d − 1
    /// of <paramref name="noise"/> (streams of replicate firstReplicate + r).
    /// </summary>
    public static void Sample(Index1D thread, RandomStream choices, RandomStream noise, int firstReplicate, ArrayView<double> fitted,
        long fittedReplicateStride, int fittedCount, int dim, double bandwidth, int count, ArrayView<double> output, long total, int stride)
    {
        for (long item = thread; item < total; item += stride)
        {
            var r = item / count;
            var p = item - r * count;
            var replicate = (uint)(firstReplicate + r);
            var chosen = Philox.UniformIntAt(choices.ForReplicate(replicate), (ulong)p, (uint)fittedCount);
            var source = r * fittedReplicateStride + (long)chosen * dim;
            for (var j = 0; j < dim; j++)
                output[item * dim + j] = fitted[source + j] + bandwidth * Philox.Normal(noise.ForReplicate(replicate), (ulong)(p * dim + j));
        }
    }
}
