using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// The CPU path of the least-squares kernels (<c>Regression/LeastSquaresKernels</c>) on raw pointers,
/// one replicate per call: the same arithmetic as the ILGPU bodies where it is a loop over rows
/// (labels, right-hand sides, the minimum-norm solve), and the pseudo-inverse of a factored Gram by
/// triangular inversion (rank d) or G⁺ = B·Bᵀ with B = L (LᵀL)⁻¹ (rank k &lt; d), where the ILGPU
/// kernel solves d unit right-hand sides: two methods for one matrix, which the tests compare.
/// </summary>
public static unsafe class SimdRegression
{
    /// <summary>y_i = x_i·w + σ z_i for n rows of ld doubles (padding zero, so whole vectors are read).</summary>
    public static void Labels(double* x, double* w, double* z, double sigma, int n, int ld, double* y)
    {
        for (var i = 0; i < n; i++)
        {
            var row = x + (long)i * ld;
            var acc = Vector256<double>.Zero;
            for (var k = 0; k < ld; k += 4) acc = Vector256.FusedMultiplyAdd(Vector256.Load(row + k), Vector256.Load(w + k), acc);
            y[i] = Vector256.Sum(acc) + sigma * z[i];
        }
    }

    /// <summary>b = scale·Xᵀs over n rows of ld doubles; each b_k sums its rows in order, as the ILGPU kernel does.</summary>
    public static void Rhs(double* x, double* s, double scale, int n, int ld, double* b)
    {
        new Span<double>(b, ld).Clear();
        for (var i = 0; i < n; i++)
        {
            var row = x + (long)i * ld;
            var si = Vector256.Create(s[i]);
            for (var k = 0; k < ld; k += 4) (Vector256.Load(b + k) + Vector256.Load(row + k) * si).Store(b + k);
        }
        var v = Vector256.Create(scale);
        for (var k = 0; k < ld; k += 4) (Vector256.Load(b + k) * v).Store(b + k);
    }

    /// <summary>w = A·b for a d × d matrix A and vectors of ld doubles (w's padding untouched).</summary>
    public static void MatVec(double* a, double* b, int d, double* w)
    {
        for (var i = 0; i < d; i++)
        {
            var row = a + (long)i * d;
            var acc = Vector256<double>.Zero;
            var j = 0;
            for (; j + 4 <= d; j += 4) acc = Vector256.FusedMultiplyAdd(Vector256.Load(row + j), Vector256.Load(b + j), acc);
            var total = Vector256.Sum(acc);
            for (; j < d; j++) total += row[j] * b[j];
            w[i] = total;
        }
    }

    /// <summary>(δᵀ G δ, ‖δ‖²) with δ = fitted − truth (d entries used) and G d × d; <paramref name="delta"/> holds d doubles.</summary>
    public static (double Quadratic, double Squared) Errors(double* fitted, double* truth, double* gram, int d, double* delta)
    {
        var squared = 0.0;
        for (var i = 0; i < d; i++)
        {
            delta[i] = fitted[i] - truth[i];
            squared += delta[i] * delta[i];
        }
        var product = stackalloc double[1];
        var quadratic = 0.0;
        for (var i = 0; i < d; i++)
        {
            MatVecRow(gram + (long)i * d, delta, d, product);
            quadratic += delta[i] * product[0];
        }
        return (quadratic, squared);
    }

    static void MatVecRow(double* row, double* v, int d, double* output)
    {
        var acc = Vector256<double>.Zero;
        var j = 0;
        for (; j + 4 <= d; j += 4) acc = Vector256.FusedMultiplyAdd(Vector256.Load(row + j), Vector256.Load(v + j), acc);
        var total = Vector256.Sum(acc);
        for (; j < d; j++) total += row[j] * v[j];
        output[0] = total;
    }

    /// <summary>
    /// The minimum-norm solution of G w = b from G's pivoted factor (<paramref name="a"/>: L in pivot order,
    /// row-major d × d, columns &lt; k), as <c>LeastSquaresKernels.SolveOne</c> computes it.
    /// <paramref name="scratch"/>: d·d + 2·d doubles. Writes w's first d entries.
    /// </summary>
    public static void Solve(double* a, int* pi, int k, double* b, int d, double* scratch, double* w)
    {
        var y = scratch + (long)d * d;
        var x = y + d;
        for (var i = 0; i < k; i++)
        {
            var v = b[pi[i]];
            var row = a + (long)i * d;
            for (var j = 0; j < i; j++) v -= row[j] * y[j];
            y[i] = v / row[i];
        }
        if (k == d)
        {
            for (var i = d - 1; i >= 0; i--)
            {
                var v = y[i];
                for (var j = i + 1; j < d; j++) v -= a[(long)j * d + i] * x[j];
                x[i] = v / a[(long)i * d + i];
            }
        }
        else
        {
            var m = scratch;
            Normal(a, k, d, m);
            CholeskySolve(m, k, y);
            for (var i = 0; i < d; i++)
            {
                var v = 0.0;
                var row = a + (long)i * d;
                for (var c = 0; c < k && c <= i; c++) v += row[c] * y[c];
                x[i] = v;
            }
        }
        for (var i = 0; i < d; i++) w[pi[i]] = x[i];
    }

    /// <summary>
    /// G⁺ (d × d, original coordinates) from G's pivoted factor of rank k. Rank d: G⁻¹ = P L⁻ᵀL⁻¹ Pᵀ by
    /// inverting L. Rank k &lt; d: G⁺ = P B Bᵀ Pᵀ with B = L (LᵀL)⁻¹ (so that B Bᵀ = L (LᵀL)⁻² Lᵀ).
    /// <paramref name="scratch"/>: 2·d·d doubles.
    /// </summary>
    public static void PseudoInverse(double* a, int* pi, int k, int d, double* scratch, double* inverse)
    {
        // b[i, c] for c < k: rank d, L⁻¹ stored transposed (b[i, c] = (L⁻¹)[c, i], so G⁻¹ = b·bᵀ); rank k, B itself.
        var b = scratch;
        new Span<double>(b, d * k).Clear();
        if (k == d)
        {
            for (var c = 0; c < d; c++)
            {
                // Column c of L⁻¹: L x = e_c, x_i = 0 for i < c.
                b[(long)c * k + c] = 1.0 / a[(long)c * d + c];
                for (var i = c + 1; i < d; i++)
                {
                    var v = 0.0;
                    var row = a + (long)i * d;
                    for (var j = c; j < i; j++) v -= row[j] * b[(long)j * k + c];
                    b[(long)i * k + c] = v / row[i];
                }
            }
            // b holds L⁻¹ by rows i (b[i, c] = (L⁻¹)[i, c]); G_π⁻¹[p, q] = Σ_i (L⁻¹)[i, p] (L⁻¹)[i, q].
            for (var p = 0; p < d; p++)
                for (var q = 0; q <= p; q++)
                {
                    var total = 0.0;
                    for (var i = p; i < d; i++) total += b[(long)i * k + p] * b[(long)i * k + q];
                    inverse[(long)pi[p] * d + pi[q]] = inverse[(long)pi[q] * d + pi[p]] = total;
                }
            return;
        }
        var m = scratch + (long)d * d;
        Normal(a, k, d, m);
        // Row i of B: M⁻¹ L_iᵀ (M symmetric), L_i = row i of L (entries c ≤ min(i, k − 1)).
        var line = stackalloc double[k];
        for (var i = 0; i < d; i++)
        {
            for (var c = 0; c < k; c++) line[c] = c <= i ? a[(long)i * d + c] : 0.0;
            CholeskySolve(m, k, line);
            for (var c = 0; c < k; c++) b[(long)i * k + c] = line[c];
        }
        for (var p = 0; p < d; p++)
            for (var q = 0; q <= p; q++)
            {
                var total = 0.0;
                for (var c = 0; c < k; c++) total += b[(long)p * k + c] * b[(long)q * k + c];
                inverse[(long)pi[p] * d + pi[q]] = inverse[(long)pi[q] * d + pi[p]] = total;
            }
    }

    /// <summary>M = LᵀL (k × k, lower triangle, row-major k·k) for L in <paramref name="a"/> (d × d rows, columns &lt; k), then its Cholesky factor in place.</summary>
    static void Normal(double* a, int k, int d, double* m)
    {
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
    }

    /// <summary>v = M⁻¹ v in place from M's Cholesky factor R (M = R Rᵀ, lower, k·k row-major).</summary>
    static void CholeskySolve(double* r, int k, double* v)
    {
        for (var i = 0; i < k; i++)
        {
            var s = v[i];
            for (var j = 0; j < i; j++) s -= r[(long)i * k + j] * v[j];
            v[i] = s / r[(long)i * k + i];
        }
        for (var i = k - 1; i >= 0; i--)
        {
            var s = v[i];
            for (var j = i + 1; j < k; j++) s -= r[(long)j * k + i] * v[j];
            v[i] = s / r[(long)i * k + i];
        }
    }
}
