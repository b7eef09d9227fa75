using Collapse.Engine.Families.Points;
using Collapse.Kernels.Gaussian;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Engine.Families.Gaussian;

/// <summary>
/// The multivariate Gaussian family (docs/DESIGN.md, section A) for one batch of replicates of one
/// (d, n) cell: truth N(0, I_d), maximum-likelihood fits (sample mean, biased covariance),
/// sampling inside the fitted subspace, and the paper's three metrics. All state lives on the
/// accelerator; only the per-replicate metrics come back each iteration.
/// </summary>
public sealed class GaussianFamily : IModelFamily
{
    public static readonly IReadOnlyList<string> Metrics = ["squared_error_mean", "det_ratio", "log_det_ratio", "trace_ratio"];

    readonly Accelerator accelerator;
    readonly GaussianKernels kernels;
    readonly GaussianShape shape;
    readonly GaussianMethod method;
    readonly uint seed;
    readonly int firstReplicate;

    // The current model of every replicate: Σ = F·Fᵀ, F stored transposed (see GaussianModelViews).
    readonly MemoryBuffer1D<double, Stride1D.Dense> mean, factorT, logDet, pivotLowerT;
    readonly MemoryBuffer1D<int, Stride1D.Dense> rank, perm;
    readonly GaussianModelViews model;
    // Scratch for fits.
    readonly MemoryBuffer1D<double, Stride1D.Dense> m2, work;
    MemoryBuffer1D<float, Stride1D.Dense>? normals;
    // Accumulate's running summary of everything fitted so far.
    MemoryBuffer1D<double, Stride1D.Dense>? accumulatedMean, accumulatedM2, generationMean, generationM2;
    long accumulatedCount;

    readonly MemoryBuffer1D<double, Stride1D.Dense> summaries;
    readonly double[] hostSummaries, hostLogDet;
    readonly PointBuffers buffers;
    readonly PointBuffers? poolBuffers;

    /// <param name="seed">The run's master seed (first key word of every random stream).</param>
    /// <param name="firstReplicate">Global index of this batch's first replicate: replicate r draws as seed index firstReplicate + r.</param>
    /// <param name="poolBuffers">Where Accumulate-Subsample pools come from, so a sweep reuses one allocation across cells.</param>
    public GaussianFamily(Accelerator accelerator, GaussianKernels kernels, int dim, int replicates, int firstReplicate,
        uint seed, GaussianMethod method, PointBuffers? poolBuffers = null)
    {
        this.poolBuffers = poolBuffers;
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dimension must be at least 1");
        if (replicates < 1) throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "at least one replicate");
        this.accelerator = accelerator;
        this.kernels = kernels;
        this.method = method;
        this.seed = seed;
        this.firstReplicate = firstReplicate;
        shape = new GaussianShape(replicates, dim);
        mean = accelerator.Allocate1D<double>(shape.MeanLength);
        factorT = accelerator.Allocate1D<double>(shape.FactorLength);
        logDet = accelerator.Allocate1D<double>(replicates);
        rank = accelerator.Allocate1D<int>(replicates);
        m2 = accelerator.Allocate1D<double>(shape.MatrixLength);
        work = accelerator.Allocate1D<double>(shape.MatrixLength);
        perm = accelerator.Allocate1D<int>((long)replicates * dim);
        pivotLowerT = accelerator.Allocate1D<double>(shape.FactorLength);
        model = new GaussianModelViews
        {
            Mean = mean.View, FactorT = factorT.View, Rank = rank.View, LogDet = logDet.View,
            PivotLowerT = pivotLowerT.View, Permutation = perm.View,
        };
        summaries = accelerator.Allocate1D<double>(2L * replicates);
        hostSummaries = new double[2 * replicates];
        hostLogDet = new double[replicates];
        buffers = new PointBuffers(accelerator);
        SetTruth();
    }

    public int Replicates => shape.Replicates;
    public int Dim => shape.Dim;
    public IReadOnlyList<string> MetricNames => Metrics;

    /// <summary>The model starts as the truth, N(0, I): the real data are its samples.</summary>
    void SetTruth()
    {
        var (d, ld) = (shape.Dim, shape.Stride);
        var identity = new double[shape.FactorLength];
        for (var r = 0; r < shape.Replicates; r++)
            for (var k = 0; k < d; k++)
                identity[(long)r * d * ld + (long)k * ld + k] = 1.0;
        factorT.View.CopyFromCPU(identity);
        pivotLowerT.View.CopyFromCPU(identity);
        perm.View.CopyFromCPU(Enumerable.Range(0, shape.Replicates * d).Select(i => i % d).ToArray());
        mean.MemSetToZero();
        logDet.MemSetToZero();
        rank.View.CopyFromCPU(Enumerable.Repeat(d, shape.Replicates).ToArray());
    }

    RandomStream Stream(int iteration, uint stream) => new(seed, 0, (uint)iteration, stream);

    public IDataBatch DrawReal(int count) => Draw(count, 1, RandomStreams.RealData);

    public IDataBatch Sample(int count, int iteration) => Draw(count, iteration, RandomStreams.Synthetic);

    IDataBatch Draw(int count, int iteration, uint stream)
    {
        if (method == GaussianMethod.Wishart)
        {
            var statistics = new StatisticsBatch(accelerator, shape, count);
            kernels.DrawWishart(shape, Stream(iteration, RandomStreams.WishartNormals(stream)),
                Stream(iteration, RandomStreams.WishartChiSquare(stream)), firstReplicate, count,
                mean.View, factorT.View, rank.View, statistics.Mean.View, statistics.FactorT.View,
                statistics.Rank.View, statistics.LogDetIncrement.View);
            return statistics;
        }
        var points = buffers.Rent(shape.PointsLength(count));
        if (!kernels.UsesSimd && (normals is null || normals.Length < (long)shape.Replicates * count * shape.Dim))
        {
            normals?.Dispose();
            normals = accelerator.Allocate1D<float>((long)shape.Replicates * count * shape.Dim);
        }
        kernels.Sample(shape, Stream(iteration, stream), firstReplicate, model, count, points.View, (long)count * shape.Stride, normals?.View ?? default);
        return new PointsBatch(points, count);
    }

    public void Fit(IDataBatch data)
    {
        switch (data)
        {
            case PointsBatch points:
                kernels.Moments(shape, points.Points.View, (long)points.Count * shape.Stride, points.Count, mean.View, m2.View);
                kernels.Factorize(shape, m2.View, points.Count, model, work.View);
                break;
            case StatisticsBatch statistics:
                // The fit of the drawn statistics: its factor is G itself, and log det moves by the exact increment.
                kernels.Synchronize();
                var increments = statistics.LogDetIncrement.GetAsArray1D();
                var ranks = statistics.Rank.GetAsArray1D();
                logDet.View.CopyToCPU(hostLogDet);
                for (var r = 0; r < shape.Replicates; r++)
                    hostLogDet[r] = ranks[r] == shape.Dim ? hostLogDet[r] + increments[r] : double.NegativeInfinity;
                logDet.View.CopyFromCPU(hostLogDet);
                statistics.Mean.View.CopyTo(mean.View);
                statistics.FactorT.View.CopyTo(factorT.View);
                statistics.Rank.View.CopyTo(rank.View);
                break;
            default:
                throw new ArgumentException($"not a Gaussian batch: {data.GetType().Name}", nameof(data));
        }
    }

    public void FitAccumulated(IDataBatch newest)
    {
        accumulatedMean ??= accelerator.Allocate1D<double>(shape.MeanLength);
        accumulatedM2 ??= accelerator.Allocate1D<double>(shape.MatrixLength);
        generationMean ??= accelerator.Allocate1D<double>(shape.MeanLength);
        generationM2 ??= accelerator.Allocate1D<double>(shape.MatrixLength);
        switch (newest)
        {
            case PointsBatch points:
                kernels.Moments(shape, points.Points.View, (long)points.Count * shape.Stride, points.Count,
                    generationMean.View, generationM2.View);
                break;
            case StatisticsBatch statistics:
                statistics.Mean.View.CopyTo(generationMean.View);
                kernels.ScatterFromFactor(shape, statistics.FactorT.View, statistics.Rank.View, statistics.Count, generationM2.View);
                break;
            default:
                throw new ArgumentException($"not a Gaussian batch: {newest.GetType().Name}", nameof(newest));
        }
        if (accumulatedCount == 0)
        {
            generationMean.View.CopyTo(accumulatedMean.View);
            generationM2.View.CopyTo(accumulatedM2.View);
        }
        else
        {
            kernels.Merge(shape, accumulatedMean.View, accumulatedM2.View, accumulatedCount,
                generationMean.View, generationM2.View, newest.Count);
        }
        accumulatedCount += newest.Count;
        accumulatedMean.View.CopyTo(mean.View);
        kernels.Factorize(shape, accumulatedM2.View, accumulatedCount, model, work.View);
    }

    public IDataPool CreatePool(long capacity)
    {
        if (method == GaussianMethod.Wishart)
            throw new InvalidOperationException("the wishart method draws no points, so it has no pool to subsample: use --method data for accumulate-subsample");
        return new PointPool(kernels.Points, shape.Replicates, shape.Stride, capacity, seed, firstReplicate, buffers, poolBuffers);
    }

    public void Evaluate(double[,] metrics)
    {
        kernels.MeanNormAndTrace(shape, model, summaries.View);
        kernels.Synchronize();
        summaries.View.CopyToCPU(hostSummaries);
        logDet.View.CopyToCPU(hostLogDet);
        for (var r = 0; r < shape.Replicates; r++)
        {
            // μ₀ = 0 and Σ₀ = I: the ratios are the fitted model's own det and trace / d.
            metrics[r, 0] = hostSummaries[2 * r];
            metrics[r, 1] = Math.Exp(hostLogDet[r]);
            metrics[r, 2] = hostLogDet[r];
            metrics[r, 3] = hostSummaries[2 * r + 1] / shape.Dim;
        }
    }

    /// <summary>The fitted models on the host: means [R][d], covariances Σ = F·Fᵀ [R][d][d], and ranks.</summary>
    public (double[] Mean, double[] Covariance, int[] Rank) HostModel()
    {
        kernels.Synchronize();
        var (d, ld, replicates) = (shape.Dim, shape.Stride, shape.Replicates);
        var f = factorT.GetAsArray1D();
        var covariance = new double[shape.MatrixLength];
        for (var r = 0; r < replicates; r++)
        {
            var row = (long)r * d * ld;
            for (var i = 0; i < d; i++)
                for (var j = 0; j <= i; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < d; k++) sum += f[row + (long)k * ld + i] * f[row + (long)k * ld + j];
                    covariance[((long)r * d + i) * d + j] = covariance[((long)r * d + j) * d + i] = sum;
                }
        }
        return (mean.GetAsArray1D(), covariance, rank.GetAsArray1D());
    }

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer?[] { mean, factorT, logDet, pivotLowerT, summaries, rank, perm, m2, work, normals, accumulatedMean, accumulatedM2, generationMean, generationM2 })
            b?.Dispose();
        buffers.Dispose();
    }
}
