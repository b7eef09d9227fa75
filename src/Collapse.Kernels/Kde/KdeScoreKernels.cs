using Collapse.Kernels.Accelerators;
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
                if (v <= max) sum += KernelMath.Exp(v - max);
                else
                {
                    sum = sum * KernelMath.Exp(max - v) + 1.0;
                    max = v;
                }
            }
            state[2 * item] = max;
            state[2 * item + 1] = sum;
        }
    }

    /// <summary>Largest group (tile of test points) and dimension the tiled kernel serves.</summary>
    public const int MaxTile = 128, MaxTiledDim = 4;

    /// <summary>
    /// The GPU variant: a group of threads is a tile of one replicate's test points (one thread per
    /// point) and one of <paramref name="splits"/> equal ranges of its fitted points. The group copies a
    /// tile of fitted points into shared memory once, then every thread scores its test point against all
    /// of them, so each fitted point is read from global memory once per tile of test points instead of
    /// once per test point. Splitting the fitted points fills a device that replicates × test tiles alone
    /// would leave idle (a few replicates of a few hundred test points). With one split the group adds to
    /// <paramref name="state"/>; with several, each writes its range's own (max, sum) to
    /// <paramref name="partial"/> [split][replicate][test point][2] for <see cref="MergePartials"/>.
    /// Launch with replicates · tilesPerReplicate · splits groups of at most <see cref="MaxTile"/> threads;
    /// dim ≤ <see cref="MaxTiledDim"/>.
    /// </summary>
    public static void AccumulateTiled(ArrayView<double> test, int testCount, ArrayView<double> fitted,
        long fittedReplicateStride, int fittedCount, int dim, double inverseTwoH2, ArrayView<double> state, int tilesPerReplicate,
        int splits, ArrayView<double> partial)
    {
        var shared = SharedMemory.Allocate<double>(MaxTile * MaxTiledDim);
        var lane = Group.IdxX;
        var size = Group.DimX;
        var split = Grid.IdxX % splits;
        var group = Grid.IdxX / splits;
        var r = group / tilesPerReplicate;
        var t = (group - r * tilesPerReplicate) * size + lane;
        var active = t < testCount;
        var item = (long)r * testCount + t;
        var chunk = (fittedCount + splits - 1) / splits;
        var (begin, end) = (split * chunk, Math.Min(fittedCount, (split + 1) * chunk));
        double t0 = 0, t1 = 0, t2 = 0, t3 = 0, max = double.NegativeInfinity, sum = 0;
        if (active)
        {
            t0 = test[item * dim];
            if (dim > 1) t1 = test[item * dim + 1];
            if (dim > 2) t2 = test[item * dim + 2];
            if (dim > 3) t3 = test[item * dim + 3];
            if (splits == 1)
            {
                max = state[2 * item];
                sum = state[2 * item + 1];
            }
        }
        var source = r * fittedReplicateStride;
        for (var start = begin; start < end; start += size)
        {
            var count = Math.Min(size, end - start);
            if (lane < count)
                for (var j = 0; j < dim; j++) shared[lane * MaxTiledDim + j] = fitted[source + (long)(start + lane) * dim + j];
            Group.Barrier();
            if (active)
                for (var i = 0; i < count; i++)
                {
                    var d0 = t0 - shared[i * MaxTiledDim];
                    var squared = d0 * d0;
                    if (dim > 1) { var d1 = t1 - shared[i * MaxTiledDim + 1]; squared += d1 * d1; }
                    if (dim > 2) { var d2 = t2 - shared[i * MaxTiledDim + 2]; squared += d2 * d2; }
                    if (dim > 3) { var d3 = t3 - shared[i * MaxTiledDim + 3]; squared += d3 * d3; }
                    var v = -squared * inverseTwoH2;
                    if (v <= max) sum += KernelMath.Exp(v - max);
                    else
                    {
                        sum = sum * KernelMath.Exp(max - v) + 1.0;
                        max = v;
                    }
                }
            Group.Barrier();
        }
        if (!active) return;
        if (splits == 1)
        {
            state[2 * item] = max;
            state[2 * item + 1] = sum;
        }
        else
        {
            var at = (long)split * (state.Length / 2) + item;
            partial[2 * at] = max;
            partial[2 * at + 1] = sum;
        }
    }

    /// <summary>
    /// Folds the splits' partial (max, sum) states into every test point's running state, split by split
    /// in order: (m, s) ⊕ (m', s') = (M, s·e^(m − M) + s'·e^(m' − M)), M = max(m, m'). An empty range
    /// (−∞, 0) changes nothing. One thread per (replicate, test point).
    /// </summary>
    public static void MergePartials(Index1D thread, ArrayView<double> state, ArrayView<double> partial, int splits, int stride)
    {
        var total = state.Length / 2;
        for (long item = thread; item < total; item += stride)
        {
            var (max, sum) = (state[2 * item], state[2 * item + 1]);
            for (var k = 0; k < splits; k++)
            {
                var at = k * total + item;
                var (m, s) = (partial[2 * at], partial[2 * at + 1]);
                if (!(s > 0)) continue;
                if (m <= max) sum += s * KernelMath.Exp(m - max);
                else
                {
                    sum = sum * KernelMath.Exp(max - m) + s;
                    max = m;
                }
            }
            state[2 * item] = max;
            state[2 * item + 1] = sum;
        }
    }

    /// <summary>
    /// nll[r] = −(1/testCount)·Σ_t log p(t) for every replicate, from the test points' states, with
    /// log p(t) = max + log sum − log m − (d/2)·log(2πh²): the NLL reduced on the device, so an
    /// iteration copies R doubles back instead of every state. Sums in the host reference's order
    /// (<see cref="KdeKernels.MeanNegativeLogLikelihood(ReadOnlySpan{double}, int, int, long, int, double)"/>), so the
    /// CPU accelerator gives its bits.
    /// </summary>
    public static void MeanNegativeLogLikelihood(Index1D thread, ArrayView<double> state, int testCount, long fittedCount, int dim,
        double bandwidth, ArrayView<double> nll, int stride)
    {
        for (var r = (int)thread; r < nll.Length; r += stride)
        {
            var total = 0.0;
            for (var t = 0; t < testCount; t++)
            {
                var item = (long)r * testCount + t;
                total += state[2 * item] + KernelMath.Log(state[2 * item + 1]) - KernelMath.Log(fittedCount)
                         - 0.5 * dim * KernelMath.Log(2 * Math.PI * bandwidth * bandwidth);
            }
            nll[r] = -total / testCount;
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
