namespace Collapse.Tests.Reference;

/// <summary>
/// A plain float64 reference of the authors' linear-regression loop (their
/// <c>src/fit_linear_regressions</c>, after Gerstgrasser et al. 2024), one seed at a time, written
/// for clarity, not speed, and not bit-compatible with the engine: its own random numbers
/// (System.Random, Box–Muller) and its own minimum-norm least squares (Householder QR with column
/// pivoting, no normal equations, no Cholesky, no SVD). Matrices are double[rows, columns].
/// </summary>
public static class ReferenceRegression
{
    /// <summary>Per iteration t = 1..T (index t − 1): the test MSE against noiseless labels, and ‖ŵ_t − w*‖².</summary>
    public sealed record Chain(double[] TestMse, double[] WeightError);

    /// <summary>
    /// One seed of the protocol: w* ~ N(0, I_d), one design X (n × d) and one test set (testSize × d)
    /// drawn once; y₁ = Xw* + σε; iteration t fits, then the next generation's labels are Xŵ_t + σε.
    /// Replace fits (X, y_t); Accumulate the t stacked pairs; Accumulate-Subsample n rows drawn without
    /// replacement from the t·n stacked rows. testSize 0 skips the test MSE (NaN).
    /// </summary>
    public static Chain Run(Setting setting, int d, int n, double sigmaSquared, int iterations, int seed, int testSize = 1000)
    {
        var random = new Normal(seed);
        var sigma = Math.Sqrt(sigmaSquared);
        var truth = random.Vector(d);
        var x = random.Matrix(n, d);
        var test = random.Matrix(testSize, d);
        var labels = new List<double[]>();
        var y = Add(Multiply(x, truth), sigma, random);
        var (testMse, weightError) = (new double[iterations], new double[iterations]);
        for (var t = 1; t <= iterations; t++)
        {
            labels.Add(y);
            var (design, target) = setting switch
            {
                Setting.Replace => (x, y),
                Setting.Accumulate => Stack(x, labels, Enumerable.Range(0, t * n)),
                _ => Stack(x, labels, Subsample(t * n, n, random.Uniform)),
            };
            var fit = MinNormLeastSquares(design, target);
            var error = new double[d];
            for (var j = 0; j < d; j++) error[j] = fit[j] - truth[j];
            weightError[t - 1] = error.Sum(e => e * e);
            testMse[t - 1] = testSize == 0 ? double.NaN : Multiply(test, error).Sum(e => e * e) / testSize;
            y = Add(Multiply(x, fit), sigma, random);
        }
        return new Chain(testMse, weightError);
    }

    /// <summary>
    /// The minimum-norm least-squares solution of a x ≈ b. A basic solution from a column-pivoted
    /// Householder QR of a (rank r from R's diagonal), then projected on a's row space, spanned by
    /// the first r columns of Q in a pivoted QR of aᵀ: least-squares solutions differ by null-space
    /// vectors, and the one in the row space is the shortest.
    /// </summary>
    public static double[] MinNormLeastSquares(double[,] a, double[] b)
    {
        var (rows, columns) = (a.GetLength(0), a.GetLength(1));
        var qr = PivotedQr.Of(a);
        var c = qr.ApplyQTransposed(b);
        var z = new double[qr.Rank];
        for (var i = qr.Rank - 1; i >= 0; i--)
        {
            var s = c[i];
            for (var j = i + 1; j < qr.Rank; j++) s -= qr.R[i, j] * z[j];
            z[i] = s / qr.R[i, i];
        }
        var basic = new double[columns];
        for (var j = 0; j < qr.Rank; j++) basic[qr.Permutation[j]] = z[j];

        var transposed = new double[columns, rows];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < columns; j++) transposed[j, i] = a[i, j];
        var rowSpace = PivotedQr.Of(transposed);
        var coordinates = rowSpace.ApplyQTransposed(basic);
        for (var i = rowSpace.Rank; i < columns; i++) coordinates[i] = 0;
        return rowSpace.ApplyQ(coordinates);
    }

    /// <summary>Householder QR with column pivoting, A Π = Q R; Q kept as its reflectors.</summary>
    public sealed class PivotedQr
    {
        public required double[,] R { get; init; }
        public required int[] Permutation { get; init; }
        public required int Rank { get; init; }
        public required List<double[]> Reflectors { get; init; }

        public static PivotedQr Of(double[,] input)
        {
            var (m, p) = (input.GetLength(0), input.GetLength(1));
            var a = (double[,])input.Clone();
            var permutation = Enumerable.Range(0, p).ToArray();
            var reflectors = new List<double[]>();
            var steps = Math.Min(m, p);
            double first = 0;
            var rank = 0;
            for (var k = 0; k < steps; k++)
            {
                // The remaining column of largest norm goes next, so R's diagonal falls and reveals the rank.
                var (best, bestNorm) = (k, -1.0);
                for (var j = k; j < p; j++)
                {
                    var norm = 0.0;
                    for (var i = k; i < m; i++) norm += a[i, j] * a[i, j];
                    if (norm > bestNorm) (best, bestNorm) = (j, norm);
                }
                for (var i = 0; i < m; i++) (a[i, k], a[i, best]) = (a[i, best], a[i, k]);
                (permutation[k], permutation[best]) = (permutation[best], permutation[k]);
                var length = Math.Sqrt(bestNorm);
                if (k == 0) first = length;
                if (length <= 1e-10 * first || length == 0) break;
                rank++;
                var v = new double[m];
                var alpha = a[k, k] >= 0 ? -length : length;
                for (var i = k; i < m; i++) v[i] = a[i, k];
                v[k] -= alpha;
                var vv = 0.0;
                for (var i = k; i < m; i++) vv += v[i] * v[i];
                for (var i = k; i < m; i++) v[i] /= Math.Sqrt(vv);
                for (var j = k; j < p; j++)
                {
                    var s = 0.0;
                    for (var i = k; i < m; i++) s += v[i] * a[i, j];
                    for (var i = k; i < m; i++) a[i, j] -= 2 * s * v[i];
                }
                reflectors.Add(v);
            }
            return new PivotedQr { R = a, Permutation = permutation, Rank = rank, Reflectors = reflectors };
        }

        /// <summary>Qᵀv = H_k ⋯ H₁ v.</summary>
        public double[] ApplyQTransposed(double[] vector)
        {
            var result = (double[])vector.Clone();
            foreach (var v in Reflectors) Reflect(v, result);
            return result;
        }

        /// <summary>Qv = H₁ ⋯ H_k v.</summary>
        public double[] ApplyQ(double[] vector)
        {
            var result = (double[])vector.Clone();
            for (var k = Reflectors.Count - 1; k >= 0; k--) Reflect(Reflectors[k], result);
            return result;
        }

        static void Reflect(double[] v, double[] x)
        {
            var s = 0.0;
            for (var i = 0; i < x.Length; i++) s += v[i] * x[i];
            for (var i = 0; i < x.Length; i++) x[i] -= 2 * s * v[i];
        }
    }

    /// <summary>size of 0..pool−1, without replacement (a partial Fisher–Yates shuffle).</summary>
    static int[] Subsample(int pool, int size, Func<double> uniform)
    {
        var order = Enumerable.Range(0, pool).ToArray();
        for (var i = 0; i < size; i++)
        {
            var j = i + (int)(uniform() * (pool - i));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..size];
    }

    /// <summary>The rows of the stacked pairs (X, y₁), …, (X, y_t) that <paramref name="rows"/> names (row r is X's row r mod n).</summary>
    static (double[,] Design, double[] Target) Stack(double[,] x, List<double[]> labels, IEnumerable<int> rows)
    {
        var (n, d) = (x.GetLength(0), x.GetLength(1));
        var chosen = rows.ToArray();
        var design = new double[chosen.Length, d];
        var target = new double[chosen.Length];
        for (var i = 0; i < chosen.Length; i++)
        {
            for (var j = 0; j < d; j++) design[i, j] = x[chosen[i] % n, j];
            target[i] = labels[chosen[i] / n][chosen[i] % n];
        }
        return (design, target);
    }

    public static double[] Multiply(double[,] a, double[] v)
    {
        var result = new double[a.GetLength(0)];
        for (var i = 0; i < result.Length; i++)
            for (var j = 0; j < v.Length; j++) result[i] += a[i, j] * v[j];
        return result;
    }

    static double[] Add(double[] mean, double sigma, Normal random)
    {
        var result = new double[mean.Length];
        for (var i = 0; i < mean.Length; i++) result[i] = mean[i] + sigma * random.Next();
        return result;
    }

    /// <summary>Standard normal draws by Box–Muller from System.Random.</summary>
    sealed class Normal(int seed)
    {
        readonly System.Random random = new(seed);
        double? spare;

        public double Uniform() => random.NextDouble();

        public double Next()
        {
            if (spare is { } s)
            {
                spare = null;
                return s;
            }
            var u = 1.0 - random.NextDouble();
            var angle = 2 * Math.PI * random.NextDouble();
            var radius = Math.Sqrt(-2 * Math.Log(u));
            spare = radius * Math.Sin(angle);
            return radius * Math.Cos(angle);
        }

        public double[] Vector(int d)
        {
            var v = new double[d];
            for (var i = 0; i < d; i++) v[i] = Next();
            return v;
        }

        public double[,] Matrix(int rows, int columns)
        {
            var a = new double[rows, columns];
            for (var i = 0; i < rows; i++)
                for (var j = 0; j < columns; j++) a[i, j] = Next();
            return a;
        }
    }
}
