namespace Collapse.Engine.Families.Gaussian;

/// <summary>
/// The multivariate Gaussian family (docs/DESIGN.md, section A) for one batch of replicates of one
/// (d, n) cell, whatever form its data take: truth N(0, I_d), maximum-likelihood fits (sample
/// mean, biased covariance), Accumulate by merging sufficient statistics, and the paper's metrics.
/// <see cref="GaussianFamily"/> draws points (the paper's method); <see cref="WishartGaussianFamily"/>
/// draws the exact sufficient statistics. All state lives on the accelerator; only the
/// per-replicate metrics come back each iteration.
/// </summary>
public abstract class GaussianModelFamily<TBatch> : IModelFamily<TBatch> where TBatch : class, IDataBatch
{
    protected readonly DeviceMemory memory;
    protected readonly GaussianKernels kernels;
    protected readonly GaussianShape shape;
    protected readonly uint seed;
    protected readonly int firstReplicate;

    // The current model of every replicate: Σ = F·Fᵀ, F stored transposed (see GaussianModelViews).
    protected readonly MemoryBuffer1D<double, Stride1D.Dense> mean, factorT, logDet, pivotLowerT;
    protected readonly MemoryBuffer1D<int, Stride1D.Dense> rank, perm;
    protected readonly GaussianModelViews model;
    // Scratch for fits.
    readonly MemoryBuffer1D<double, Stride1D.Dense> m2, work;
    readonly MemoryBuffer1D<double, Stride1D.Dense> summaries;
    readonly double[] hostSummaries;
    protected readonly double[] hostLogDet;
    // Whether the model is the truth: real data are the truth's samples, whatever was fitted before.
    bool modelIsTruth;

    /// <summary>Changes whenever the model is about to change, so a batch drawn from it can tell whether it still is.</summary>
    protected long ModelVersion { get; private set; }

    /// <summary>Call before writing any part of the model.</summary>
    protected void ModelChanging()
    {
        BeforeModelChange();
        ModelVersion++;
    }

    /// <summary>What must happen while the model is still the one being replaced (a family that defers draws draws them).</summary>
    protected virtual void BeforeModelChange()
    {
    }

    /// <param name="seed">The run's master seed (first key word of every random stream).</param>
    /// <param name="firstReplicate">Global index of this batch's first replicate: replicate r draws as seed index firstReplicate + r.</param>
    protected GaussianModelFamily(DeviceMemory memory, GaussianKernels kernels, int dim, int replicates, int firstReplicate, uint seed)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dimension must be at least 1");
        if (replicates < 1) throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "at least one replicate");
        (this.memory, this.kernels, this.seed, this.firstReplicate) = (memory, kernels, seed, firstReplicate);
        shape = new GaussianShape(replicates, dim);
        mean = memory.Allocate<double>(shape.MeanLength);
        factorT = memory.Allocate<double>(shape.FactorLength);
        logDet = memory.Allocate<double>(replicates);
        rank = memory.Allocate<int>(replicates);
        m2 = memory.Allocate<double>(shape.MatrixLength);
        work = memory.Allocate<double>(shape.MatrixLength);
        perm = memory.Allocate<int>((long)replicates * dim);
        pivotLowerT = memory.Allocate<double>(shape.FactorLength);
        model = new GaussianModelViews
        {
            Mean = mean.View, FactorT = factorT.View, Rank = rank.View, LogDet = logDet.View,
            PivotLowerT = pivotLowerT.View, Permutation = perm.View,
        };
        summaries = memory.Allocate<double>(2L * replicates);
        hostSummaries = new double[2 * replicates];
        hostLogDet = new double[replicates];
        SetTruth();
    }

    /// <summary>
    /// Estimated bytes per replicate of the model and fit scratch the constructor allocates, plus an
    /// accumulation (<see cref="BeginAccumulation"/>'s running and newest moments) when
    /// <paramref name="accumulates"/>.
    /// </summary>
    public static long ModelBytesPerReplicate(int dim, bool accumulates)
    {
        long d = dim, ld = GaussianShape.StrideOf(dim);
        return 8 * (2 * d * ld + 2 * d * d + d + 3) + 4 * (d + 1) + (accumulates ? 8 * (2 * d * d + 2 * d) : 0);
    }

    public int Replicates => shape.Replicates;
    public int Dim => shape.Dim;
    public MetricSet Metrics => GaussianMetrics.All;
    public abstract FamilyCapabilities Capabilities { get; }

    /// <summary>The model starts as the truth, N(0, I): the real data are its samples.</summary>
    void SetTruth()
    {
        ModelChanging();
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
        modelIsTruth = true;
    }

    protected RandomStream Stream(int iteration, uint stream) => new(seed, 0, (uint)iteration, stream);

    /// <summary>
    /// count points per replicate of the truth N(0, I) (stream RealData of iteration 1). A family that
    /// has been fitted first restores the truth as its model: the chain fits the real data next.
    /// </summary>
    public TBatch DrawReal(int count)
    {
        if (!modelIsTruth) SetTruth();
        return Draw(count, 1, RandomStreams.RealData);
    }

    public TBatch Sample(int count, int iteration) => Draw(count, iteration, RandomStreams.Synthetic);

    /// <summary>count records per replicate of the current models from stream (seed, iteration, stream).</summary>
    protected abstract TBatch Draw(int count, int iteration, uint stream);

    public void Fit(TBatch data)
    {
        modelIsTruth = false;
        FitModel(data);
    }

    /// <summary>The maximum-likelihood fit of every replicate to its data.</summary>
    protected abstract void FitModel(TBatch data);

    /// <summary>The mean and scatter Σ(x − x̄)(x − x̄)ᵀ of the batch, per replicate, into the views.</summary>
    protected abstract void Moments(TBatch batch, ArrayView<double> mean, ArrayView<double> m2);

    /// <summary>Fits the model to n points with the given scatter (the mean already in place).</summary>
    protected void Factorize(ArrayView<double> scatter, long count)
    {
        ModelChanging();
        kernels.Factorize(shape, scatter, count, model, work.View);
    }

    /// <summary>The maximum-likelihood fit of a batch from its moments.</summary>
    protected void FitMoments(TBatch batch)
    {
        // The moments go straight into the model's mean: Factorize, right after, marks the change.
        Moments(batch, mean.View, m2.View);
        Factorize(m2.View, batch.Count);
    }

    public IAccumulation<TBatch> BeginAccumulation(long capacity) => new Accumulation(this);

    public virtual IDataPool<TBatch> CreatePool(long capacity) =>
        throw new NotSupportedException($"{GetType().Name} has no pool (its capabilities say so; the scenario runner checks them first)");

    /// <summary>Accumulate's running summary: the merged mean and scatter of everything added, and its count.</summary>
    sealed class Accumulation(GaussianModelFamily<TBatch> family) : IAccumulation<TBatch>
    {
        readonly MemoryBuffer1D<double, Stride1D.Dense> mean = family.memory.Allocate<double>(family.shape.MeanLength),
            m2 = family.memory.Allocate<double>(family.shape.MatrixLength),
            newestMean = family.memory.Allocate<double>(family.shape.MeanLength),
            newestM2 = family.memory.Allocate<double>(family.shape.MatrixLength);

        public long Count { get; private set; }

        public void AddAndFit(TBatch newest)
        {
            var f = family;
            if (Count == 0) f.Moments(newest, mean.View, m2.View);
            else
            {
                f.Moments(newest, newestMean.View, newestM2.View);
                f.kernels.Merge(f.shape, mean.View, m2.View, Count, newestMean.View, newestM2.View, newest.Count);
            }
            Count += newest.Count;
            f.modelIsTruth = false;
            f.ModelChanging();
            mean.View.CopyTo(f.mean.View);
            f.Factorize(m2.View, Count);
        }

        public void Dispose()
        {
            mean.Dispose();
            m2.Dispose();
            newestMean.Dispose();
            newestM2.Dispose();
        }
    }

    public void Evaluate(MetricTable metrics, TBatch? nextGeneration)
    {
        kernels.MeanNormAndTrace(shape, model, summaries.View);
        kernels.Synchronize();
        summaries.View.CopyToCPU(hostSummaries);
        logDet.View.CopyToCPU(hostLogDet);
        for (var r = 0; r < shape.Replicates; r++)
        {
            // μ₀ = 0 and Σ₀ = I: the ratios are the fitted model's own det and trace / d.
            metrics[r, GaussianMetrics.SquaredErrorMean] = hostSummaries[2 * r];
            metrics[r, GaussianMetrics.DetRatio] = Math.Exp(hostLogDet[r]);
            metrics[r, GaussianMetrics.LogDetRatio] = hostLogDet[r];
            metrics[r, GaussianMetrics.TraceRatio] = hostSummaries[2 * r + 1] / shape.Dim;
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

    public virtual void Dispose()
    {
        foreach (var b in new MemoryBuffer[] { mean, factorT, logDet, pivotLowerT, summaries, rank, perm, m2, work })
            b.Dispose();
    }
}
