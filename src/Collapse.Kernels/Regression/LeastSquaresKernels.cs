using Collapse.Kernels.Gaussian;
using ILGPU;

namespace Collapse.Kernels.Regression;

/// <summary>
/// The ILGPU kernels of the batched least-squares family (docs/DESIGN.md, the regression section):
/// labels from a fixed design, normal equations Xᵀ C X w = Xᵀ s with per-row weights C (a
/// subsample's row counts), pivoted Cholesky with a per-replicate rank cap, and the minimum-norm
/// solve that makes the fit the pseudo-inverse's (n ≤ d and repeated rows both work). Grid-stride
/// over the natural items; the CPU path runs the same bodies or SIMD versions of them.
/// </summary>
static class LeastSquaresKernels
{
    /// <summary>y[r, i] = x[r, i]·w[r] + σ·z[r, i], one thread per (replicate, row).</summary>
    public static void Labels(Index1D thread, ArrayView<double> design, ArrayView<double> weights, ArrayView<float> normals,
        double sigma, int n, int d, int ld, ArrayView<double> labels, int stride)
    {
        for (long item = thread.X; item < labels.Length; item += stride)
        {
            var r = item / n;
            var row = design.SubView(item * ld, d);
            var w = weights.SubView(r * ld, d);
            var dot = 0.0;
            for (var k = 0; k < d; k++) dot += row[k] * w[k];
            labels[item] = dot + sigma * normals[item];
        }
    }

    /// <summary>
    /// b[r, k] = scale·Σ_{i &lt; n} x[r, i, k]·s[r, i] over the first n of <paramref name="rowStride"/> rows per
    /// replicate (rows and labels alike), one thread per (replicate, column); padding columns zero.
    /// </summary>
    public static void Rhs(Index1D thread, ArrayView<double> design, ArrayView<double> sums, double scale, int n, long rowStride, int d, int ld,
        ArrayView<double> rhs, int stride)
    {
        for (long item = thread.X; item < rhs.Length; item += stride)
        {
            var (r, k) = (item / ld, (int)(item % ld));
            var total = 0.0;
            if (k < d)
                for (var i = 0; i < n; i++) total += design[(r * rowStride + i) * ld + k] * sums[r * rowStride + i];
            rhs[item] = scale * total;
        }
    }

    /// <summary>
    /// G[r] = scale·Σ_i c[r, i]·x_i x_iᵀ over the first m of <paramref name="rowStride"/> rows per replicate
    /// (c = 1 when <paramref name="useWeights"/> is 0), one thread per (replicate, i, j).
    /// </summary>
    public static void WeightedGram(Index1D thread, ArrayView<double> rows, ArrayView<double> weights, int useWeights, double scale,
        int m, long rowStride, int d, int ld, ArrayView<double> gram, int stride)
    {
        var dd = (long)d * d;
        for (long item = thread.X; item < gram.Length; item += stride)
        {
            var r = item / dd;
            var i = (int)(item % dd / d);
            var j = (int)(item % d);
            var total = 0.0;
            for (var p = 0; p < m; p++)
            {
                var x = rows.SubView((r * rowStride + p) * ld, d);
                total += (useWeights != 0 ? weights[r * rowStride + p] : 1.0) * x[i] * x[j];
            }
            gram[item] = scale * total;
        }
    }

    /// <summary>
    /// A subsample's rows as weights: c[r, i] = how many picked records are copies of design row i,
    /// s[r, i] = the sum of their labels, distinct[r] = rows picked at least once. One thread per replicate.
    /// </summary>
    public static void Tally(Index1D thread, ArrayView<int> rowOf, ArrayView<double> labels, int count, int n,
        ArrayView<double> weights, ArrayView<double> sums, ArrayView<int> distinct, int replicates, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
        {
            for (var i = 0; i < n; i++)
            {
                weights[(long)r * n + i] = 0.0;
                sums[(long)r * n + i] = 0.0;
            }
            var picked = 0;
            for (var q = 0; q < count; q++)
            {
                var i = (long)r * n + rowOf[(long)r * count + q];
                if (weights[i] == 0.0) picked++;
                weights[i] += 1.0;
                sums[i] += labels[(long)r * count + q];
            }
            distinct[r] = picked;
        }
    }

    /// <summary>
    /// Pivoted Cholesky of each G[r] in place (<see cref="FactorKernels.Decompose"/>) with rank at most
    /// maxRank[r]: a Gram of k distinct rows has rank min(d, k) exactly, so the cap keeps rounding noise
    /// out of the fit. One thread per replicate.
    /// </summary>
    public static void Factor(Index1D thread, ArrayView<double> gram, ArrayView<int> maxRank, int replicates, int d,
        ArrayView<int> perm, ArrayView<int> rank, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
            rank[r] = FactorKernels.Decompose(gram.SubView((long)r * d * d, (long)d * d), perm.SubView((long)r * d, d), d,
                Math.Min(d, maxRank[r]), out _);
    }

    /// <summary>
    /// The minimum-norm solution w of G w = b from G's pivoted factor (G[π, π] = L·Lᵀ, L d × k), so w is
    /// the pseudo-inverse's G⁺b. Full rank: two triangular solves. Rank k &lt; d: b's pivoted form is
    /// L·z with z = L₁⁻¹ b_π[0..k) (L₁ L's top k × k block), and the smallest w with Lᵀ w_π = z is
    /// w_π = L (LᵀL)⁻¹ z. One thread per replicate; <paramref name="scratch"/> holds
    /// <see cref="RegressionShape.SolveScratchPerReplicate"/> doubles per replicate.
    /// </summary>
    public static void Solve(Index1D thread, ArrayView<double> factor, ArrayView<int> perm, ArrayView<int> rank, ArrayView<double> rhs,
        int replicates, int d, int ld, ArrayView<double> scratch, ArrayView<double> solution, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
            SolveOne(factor.SubView((long)r * d * d, (long)d * d), perm.SubView((long)r * d, d), rank[r], rhs.SubView((long)r * ld, ld),
                d, scratch.SubView(r * ((long)d * d + 2L * d), (long)d * d + 2L * d), solution.SubView((long)r * ld, ld));
    }

    /// <summary>One replicate of <see cref="Solve"/> (the CPU path calls it directly).</summary>
    public static void SolveOne(ArrayView<double> a, ArrayView<int> pi, int k, ArrayView<double> b, int d, ArrayView<double> scratch,
        ArrayView<double> w)
    {
        var y = scratch.SubView((long)d * d, d);
        var x = scratch.SubView((long)d * d + d, d);
        // Forward substitution with L's top k × k block: y = L₁⁻¹ b_π[0..k).
        for (var i = 0; i < k; i++)
        {
            var v = b[pi[i]];
            for (var j = 0; j < i; j++) v -= a[(long)i * d + j] * y[j];
            y[i] = v / a[(long)i * d + i];
        }
        if (k == d)
        {
            // Back substitution: x = L⁻ᵀ y.
            for (var i = d - 1; i >= 0; i--)
            {
                var v = y[i];
                for (var j = i + 1; j < d; j++) v -= a[(long)j * d + i] * x[j];
                x[i] = v / a[(long)i * d + i];
            }
        }
        else
        {
            // M = LᵀL (k × k, SPD), Cholesky in place, then v = M⁻¹ z into y, and x = L v.
            var m = scratch.SubView(0, (long)k * k);
            for (var i = 0; i < k; i++)
                for (var j = 0; j <= i; j++)
                {
                    var total = 0.0;
                    for (var p = i; p < d; p++) total += a[(long)p * d + i] * a[(long)p * d + j];
                    m[(long)i * k + j] = total;
                }
            for (var c = 0; c < k; c++)
            {
                var diagonal = m[(long)c * k + c];
                for (var j = 0; j < c; j++) diagonal -= m[(long)c * k + j] * m[(long)c * k + j];
                var root = Math.Sqrt(diagonal);
                m[(long)c * k + c] = root;
                for (var i = c + 1; i < k; i++)
                {
                    var v = m[(long)i * k + c];
                    for (var j = 0; j < c; j++) v -= m[(long)i * k + j] * m[(long)c * k + j];
                    m[(long)i * k + c] = v / root;
                }
            }
            for (var i = 0; i < k; i++)
            {
                var v = y[i];
                for (var j = 0; j < i; j++) v -= m[(long)i * k + j] * y[j];
                y[i] = v / m[(long)i * k + i];
            }
            for (var i = k - 1; i >= 0; i--)
            {
                var v = y[i];
                for (var j = i + 1; j < k; j++) v -= m[(long)j * k + i] * y[j];
                y[i] = v / m[(long)i * k + i];
            }
            for (var i = 0; i < d; i++)
            {
                var v = 0.0;
                for (var c = 0; c < k && c <= i; c++) v += a[(long)i * d + c] * y[c];
                x[i] = v;
            }
        }
        for (var i = 0; i < d; i++) w[pi[i]] = x[i];
    }

    /// <summary>
    /// output[r] = (δᵀ G_test δ, ‖δ‖²) with δ = ŵ − w*: the test MSE against the noiseless labels
    /// (G_test = X_testᵀ X_test / m) and its expectation over test sets. One thread per replicate.
    /// </summary>
    public static void Errors(Index1D thread, ArrayView<double> fitted, ArrayView<double> truth, ArrayView<double> testGram,
        int replicates, int d, int ld, ArrayView<double> output, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
        {
            var (quadratic, squared) = (0.0, 0.0);
            for (var i = 0; i < d; i++)
            {
                var di = fitted[(long)r * ld + i] - truth[(long)r * ld + i];
                squared += di * di;
                var row = 0.0;
                for (var j = 0; j < d; j++) row += testGram[((long)r * d + i) * d + j] * (fitted[(long)r * ld + j] - truth[(long)r * ld + j]);
                quadratic += di * row;
            }
            output[2L * r] = quadratic;
            output[2L * r + 1] = squared;
        }
    }

    /// <summary>target[r, i] += source[r, i] (Accumulate's running label sums).</summary>
    public static void AddInto(Index1D thread, ArrayView<double> target, ArrayView<double> source, int stride)
    {
        for (long item = thread.X; item < target.Length; item += stride) target[item] += source[item];
    }

    /// <summary>Normal rows: output[r, p, k] = z[r, p·d + k] for k &lt; d (padding untouched, so it stays zero).</summary>
    public static void Rows(Index1D thread, ArrayView<float> normals, int d, int ld, ArrayView<double> output, int stride)
    {
        for (long item = thread.X; item < normals.Length; item += stride)
            output[item / d * ld + item % d] = normals[item];
    }

    /// <summary>
    /// A subsample's records from the label pool: labels[r, q] = pool[r, index[r, q]] and the design row
    /// each is a copy of, index mod n (generation k's record i is row i). One thread per (replicate, record).
    /// </summary>
    public static void GatherLabels(Index1D thread, ArrayView<double> pool, long capacity, ArrayView<int> index, int count, int n,
        ArrayView<double> labels, ArrayView<int> rowOf, int stride)
    {
        for (long item = thread.X; item < labels.Length; item += stride)
        {
            var r = item / count;
            var source = index[item];
            labels[item] = pool[r * capacity + source];
            rowOf[item] = source % n;
        }
    }

    /// <summary>
    /// The pseudo-inverse G⁺ of each replicate's Gram from its factor, column by column with
    /// <see cref="SolveOne"/> (a fixed design's, computed once so every later fit is a product).
    /// <paramref name="unit"/> holds ld doubles per replicate. One thread per replicate.
    /// </summary>
    public static void PseudoInverse(Index1D thread, ArrayView<double> factor, ArrayView<int> perm, ArrayView<int> rank, int replicates,
        int d, int ld, ArrayView<double> unit, ArrayView<double> scratch, ArrayView<double> column, ArrayView<double> inverse, int stride)
    {
        for (var r = thread.X; r < replicates; r += stride)
        {
            var e = unit.SubView((long)r * ld, ld);
            var x = column.SubView((long)r * ld, ld);
            for (var k = 0; k < ld; k++) e[k] = 0.0;
            for (var j = 0; j < d; j++)
            {
                e[j] = 1.0;
                SolveOne(factor.SubView((long)r * d * d, (long)d * d), perm.SubView((long)r * d, d), rank[r], e, d,
                    scratch.SubView(r * ((long)d * d + 2L * d), (long)d * d + 2L * d), x);
                e[j] = 0.0;
                for (var i = 0; i < d; i++) inverse[((long)r * d + i) * d + j] = x[i];
            }
        }
    }

    /// <summary>w[r] = A[r]·b[r] for d × d matrices, one thread per (replicate, row); padding untouched.</summary>
    public static void MatVec(Index1D thread, ArrayView<double> matrix, ArrayView<double> vector, int replicates, int d, int ld,
        ArrayView<double> output, int stride)
    {
        for (long item = thread.X; item < (long)replicates * d; item += stride)
        {
            var (r, i) = (item / d, (int)(item % d));
            var total = 0.0;
            for (var j = 0; j < d; j++) total += matrix[(r * d + i) * d + j] * vector[r * ld + j];
            output[r * ld + i] = total;
        }
    }
}
