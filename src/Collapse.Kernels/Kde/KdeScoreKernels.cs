using ILGPU;

namespace Collapse.Kernels.Kde;

/// <summary>
/// Gaussian-kernel density scoring, batched over replicates: each test point keeps a running
/// log-sum-exp (max, scaled sum) of v_i = −‖t − x_i‖²/(2h²) over the fitted points seen so far, so
/// far-away test points never underflow to −∞ (h = 0.1 at distance 50 gives v ≈ −1.25·10⁵), and
/// Accumulate can add only the newest generation.
/// </summary>
static class KdeScoreKernels
{
    /// <summary>
    /// One thread per (replicate, test point) over all fitted points of the batch. Points are
    /// [replicate][point][dim]; state is [replicate][test point][2] = (max, sum of exp(v − max)).
    /// </summary>
    public static void Accumulate(Index1D thread, ArrayView<double> test, int testCount, ArrayView<double> fitted,
        long fittedReplicateStride, int fittedCount, int dim, double inverseTwoH2, ArrayView<double> state, long total, int stride)
    {
        for (long item = thread; item < total; item += stride)
        {
            var r = item / testCount;
            var t = test.SubView(item * dim, dim);
            var x = fitted.SubView(r * fittedReplicateStride, (long)fittedCount * dim);
            var max = state[2 * item];
            var sum = state[2 * item + 1];
            for (var i = 0; i < fittedCount; i++)
            {
                var squared = 0.0;
                for (var j = 0; j < dim; j++)
                {
                    var delta = t[j] - x[(long)i * dim + j];
                    squared += delta * delta;
                }
                var v = -squared * inverseTwoH2;
                if (v <= max) sum += Math.Exp(v - max);
                else
                {
                    sum = sum * Math.Exp(max - v) + 1.0;
                    max = v;
                }
            }
            state[2 * item] = max;
            state[2 * item + 1] = sum;
        }
    }

    /// <summary>Resets every state to the empty sum: max = −∞, sum = 0.</summary>
    public static void Reset(Index1D thread, ArrayView<double> state, int stride)
    {
        for (long item = thread; item < state.Length / 2; item += stride)
        {
            state[2 * item] = double.NegativeInfinity;
            state[2 * item + 1] = 0.0;
        }
    }
}
