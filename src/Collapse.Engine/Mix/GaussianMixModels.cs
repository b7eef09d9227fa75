namespace Collapse.Engine.Mix;

/// <summary>
/// The Gaussian family in the mix study. The test metric is the mean negative log-likelihood of
/// the seed's fresh real test points (N(0, I), stream <see cref="RandomStreams.TestData"/>) under
/// each fit; beside it the exact expectation of that NLL under the truth,
/// ½(d·log 2π + log det Σ + tr Σ⁻¹ + μᵀΣ⁻¹μ), and the paper's three metrics. A singular fit
/// (fewer independent points than d + 1) has no density off its subspace: NLL +∞, exactly.
/// The likelihoods are computed on the host in float64 from the fitted mean and covariance:
/// R·(d³ + test·d²) flops, small beside the fit.
/// </summary>
public sealed class GaussianMixModels : MixModels<PointsBatch>
{
    public static readonly IReadOnlyList<string> Columns = ["dim", "nll_expected", .. GaussianMetrics.All.Names];

    readonly GaussianFamily gaussian;
    readonly PointBuffers buffers;
    readonly double shift;
    readonly bool fitsGenerator;
    readonly double[] test;
    readonly int testSize;

    /// <param name="truthGenerates">The generator is the truth N(0, I) instead of a fit to the real set.</param>
    /// <param name="generatorShift">Added to the first coordinate of every synthetic point: a generator biased by that much.</param>
    public GaussianMixModels(Accelerator accelerator, GaussianFamily family, int firstReplicate, uint seed, int testSize,
        bool truthGenerates, double generatorShift) : base(family)
    {
        (gaussian, shift, fitsGenerator, this.testSize) = (family, generatorShift, !truthGenerates, testSize);
        buffers = new PointBuffers(accelerator);
        var d = family.Dim;
        test = new double[(long)family.Replicates * testSize * d];
        Parallel.For(0, family.Replicates, r =>
        {
            var stream = new RandomStream(seed, (uint)(firstReplicate + r), 0, RandomStreams.TestData);
            for (var i = 0; i < testSize * d; i++) test[(long)r * testSize * d + i] = Philox.Normal(stream, (ulong)i);
        });
    }

    public override bool FitsGenerator => fitsGenerator;

    int Stride => GaussianShape.StrideOf(gaussian.Dim);

    public override PointsBatch Combine(PointsBatch real, int realCount, PointsBatch synthetic, int syntheticCount) =>
        PointsBatch.Concat(buffers, Replicates, Stride, real, realCount, synthetic, syntheticCount);

    public override PointsBatch Reorder(PointsBatch batch, int[][] orders)
    {
        batch.Reorder(orders, Stride);
        return batch;
    }

    public override PointsBatch Synthetic(PointsBatch sampled)
    {
        if (shift == 0) return sampled;
        var host = sampled.Points.GetAsArray1D();
        for (long p = 0; p < (long)Replicates * sampled.Count; p++) host[p * Stride] += shift;
        sampled.Points.View.CopyFromCPU(host);
        return sampled;
    }

    public override MixScore[] Evaluate()
    {
        var paper = new MetricTable(Replicates, GaussianMetrics.All);
        gaussian.Evaluate(paper, null);
        var (mean, covariance, rank) = gaussian.HostModel();
        var d = gaussian.Dim;
        var scores = new MixScore[Replicates];
        Parallel.For(0, Replicates, r =>
        {
            var (nll, expected) = rank[r] < d ? (double.PositiveInfinity, double.PositiveInfinity)
                : Likelihoods(mean.AsSpan(r * d, d), covariance.AsSpan(r * d * d, d * d), test.AsSpan(r * testSize * d, testSize * d), d);
            var row = GaussianRow.Of(default, d, 0, 0, 0, paper, r);
            (string, double)? bad = double.IsNaN(nll) ? ("test_metric", nll) : double.IsNaN(expected) ? ("nll_expected", expected) : row.NonFinite();
            scores[r] = new MixScore(nll, [d.ToString(System.Globalization.CultureInfo.InvariantCulture), CsvNumber.Format(expected),
                CsvNumber.Format(row.SquaredErrorMean), CsvNumber.Format(row.DetRatio), CsvNumber.Format(row.LogDetRatio), CsvNumber.Format(row.TraceRatio)], bad);
        });
        return scores;
    }

    /// <summary>
    /// Mean NLL of the test points under N(μ, Σ), and its expectation under N(0, I); both +∞ when Σ
    /// is not positive definite in float64.
    /// </summary>
    public static (double Nll, double Expected) Likelihoods(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, ReadOnlySpan<double> test, int d)
    {
        // Cholesky Σ = L·Lᵀ, row-major lower triangle.
        var l = new double[d * d];
        for (var i = 0; i < d; i++)
            for (var j = 0; j <= i; j++)
            {
                var sum = covariance[i * d + j];
                for (var k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
                if (i == j)
                {
                    if (!(sum > 0)) return (double.PositiveInfinity, double.PositiveInfinity);
                    l[i * d + i] = Math.Sqrt(sum);
                }
                else l[i * d + j] = sum / l[j * d + j];
            }
        var logDet = 0.0;
        for (var i = 0; i < d; i++) logDet += 2 * Math.Log(l[i * d + i]);
        var constant = d * Math.Log(2 * Math.PI) + logDet;
        var y = new double[d];
        double Mahalanobis(Func<int, double> x)
        {
            // ‖L⁻¹x‖² by forward substitution.
            var q = 0.0;
            for (var i = 0; i < d; i++)
            {
                var sum = x(i);
                for (var k = 0; k < i; k++) sum -= l[i * d + k] * y[k];
                y[i] = sum / l[i * d + i];
                q += y[i] * y[i];
            }
            return q;
        }
        var points = test.Length / d;
        var total = 0.0;
        var testCopy = test.ToArray();
        var meanCopy = mean.ToArray();
        for (var p = 0; p < points; p++) total += Mahalanobis(i => testCopy[p * d + i] - meanCopy[i]);
        // E over x ~ N(0, I) of (x − μ)ᵀΣ⁻¹(x − μ) = tr Σ⁻¹ + μᵀΣ⁻¹μ, and tr Σ⁻¹ = Σ_i ‖L⁻¹e_i‖².
        var trace = 0.0;
        for (var c = 0; c < d; c++) trace += Mahalanobis(i => i == c ? 1.0 : 0.0);
        var expected = 0.5 * (constant + trace + Mahalanobis(i => -meanCopy[i]));
        return (0.5 * (constant + total / points), expected);
    }

    public override void Dispose()
    {
        base.Dispose();
        buffers.Dispose();
    }
}
