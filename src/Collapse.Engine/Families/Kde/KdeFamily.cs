using Collapse.Kernels.Points;

namespace Collapse.Engine.Families.Kde;

/// <summary>
/// The Gaussian-kernel density estimator (docs/DESIGN.md, section B) for one batch of replicates of
/// one (dataset, bandwidth, n) cell. Fitting a KDE is keeping its points; the work is scoring the
/// seed's held-out real test set. Each test point keeps a running log-sum-exp over the fitted
/// points already scored, so when the bandwidth does not change with the pool (a fixed h),
/// Accumulate scores only the newest generation: O(test × n) per iteration, not O(test × t·n).
/// </summary>
public sealed class KdeFamily : IModelFamily<PointsBatch>
{
    /// <summary>Mean negative log-likelihood of the seed's held-out real test points.</summary>
    public static readonly Metric NllTest = new("nll_test", 0);
    public static readonly MetricSet All = new(NllTest);

    readonly DeviceMemory memory;
    readonly KdeKernels kernels;
    readonly PointKernels points;
    readonly Bandwidth bandwidth;
    readonly uint seed;
    readonly int firstReplicate, testSize;
    readonly ToyDistribution[] distributions;
    readonly PointBuffers buffers;
    readonly PointBuffers? poolBuffers;

    // Held-out real test points [replicate][test][dim] and their running (max, sum) [replicate][test][2].
    readonly MemoryBuffer1D<double, Stride1D.Dense> test, state, nll;
    // The current models: fittedCount points per replicate, [replicate][capacity][dim].
    MemoryBuffer1D<double, Stride1D.Dense>? fitted;
    long capacity, fittedCount, scoredCount;
    double h, scoredH;

    /// <param name="seed">The run's master seed (first key word of every random stream).</param>
    /// <param name="firstReplicate">Global index of this batch's first replicate (its seed index).</param>
    /// <param name="fittedCapacity">Points per replicate to reserve for the fitted set (Accumulate: n·T, so it never grows).</param>
    /// <param name="poolBuffers">Where Accumulate-Subsample pools come from, so a sweep reuses one allocation across cells.</param>
    public KdeFamily(Accelerator accelerator, KdeKernels kernels, PointKernels points, ToyDataset dataset, Bandwidth bandwidth,
        int replicates, int firstReplicate, uint seed, int testSize, long fittedCapacity = 0, PointBuffers? poolBuffers = null)
    {
        if (replicates < 1) throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "at least one replicate");
        if (testSize < 1) throw new ArgumentOutOfRangeException(nameof(testSize), testSize, "at least one test point");
        if (bandwidth.Rule is null) throw new ArgumentException("no bandwidth given", nameof(bandwidth));
        (this.kernels, this.points, this.bandwidth) = (kernels, points, bandwidth);
        memory = poolBuffers?.Memory ?? new DeviceMemory(accelerator);
        (this.seed, this.firstReplicate, this.testSize, this.poolBuffers) = (seed, firstReplicate, testSize, poolBuffers);
        Replicates = replicates;
        Dataset = dataset;
        Dim = dataset.Dim();
        buffers = new PointBuffers(memory);
        // One real distribution per seed (its blob centers), shared by the training data and the test set.
        distributions = [.. Enumerable.Range(0, replicates).Select(r =>
            ToyDistribution.ForSeed(dataset, Stream(r, 0, RandomStreams.Distribution)))];
        test = memory.Allocate(HostPoints(testSize, 0, RandomStreams.TestData, RandomStreams.TestDataUniforms));
        state = memory.Allocate<double>(2L * replicates * testSize);
        nll = memory.Allocate<double>(replicates);
        if (fittedCapacity > 0) Reserve(fittedCapacity, keep: false);
    }

    /// <summary>
    /// Estimated bytes per replicate: the test points, their running sums and the NLL (the constructor), the
    /// fitted set of <paramref name="fittedCapacity"/> points, two generations of n in flight (the
    /// newest and the next one sampled), and an Accumulate-Subsample pool of
    /// <paramref name="poolCapacity"/> points with its subsample (0: none).
    /// </summary>
    public static long BytesPerReplicate(int dim, int n, int testSize, long fittedCapacity, long poolCapacity) =>
        8L * dim * (testSize + fittedCapacity + 2L * n) + 16L * testSize + 8
        + (poolCapacity > 0 ? PointPool.BytesPerReplicate(dim, poolCapacity, n) : 0);

    public int Replicates { get; }
    public ToyDataset Dataset { get; }
    public Bandwidth Bandwidth => bandwidth;
    public int Dim { get; }
    public MetricSet Metrics => All;
    public FamilyCapabilities Capabilities { get; } = new() { Pools = true };

    /// <summary>Test-point × fitted-point pairs scored so far, over all replicates (the work that dominates).</summary>
    public long ScoredPairs { get; private set; }

    /// <summary>Of <see cref="ScoredPairs"/>, those the CPU path skipped by its bound (<see cref="KdeKernels.SkipTolerance"/>).</summary>
    public long SkippedPairs { get; private set; }

    /// <summary>The current bandwidth (a rule's value depends on the number of fitted points).</summary>
    public double CurrentBandwidth => h;

    RandomStream Stream(int replicate, int iteration, uint stream) => new(seed, (uint)(firstReplicate + replicate), (uint)iteration, stream);

    /// <summary>count points per replicate of each seed's real distribution, [replicate][point][dim].</summary>
    double[] HostPoints(int count, int iteration, uint normals, uint uniforms)
    {
        var all = new double[(long)Replicates * count * Dim];
        Parallel.For(0, Replicates, r => distributions[r].Sample(count, Stream(r, iteration, normals), Stream(r, iteration, uniforms))
            .CopyTo(all, (long)r * count * Dim));
        return all;
    }

    public PointsBatch DrawReal(int count)
    {
        var batch = buffers.Rent((long)Replicates * count * Dim);
        batch.View.CopyFromCPU(HostPoints(count, 1, RandomStreams.RealData, RandomStreams.RealDataUniforms));
        return new PointsBatch(batch, count, buffers);
    }

    public PointsBatch Sample(int count, int iteration)
    {
        if (fitted is null || fittedCount == 0) throw new InvalidOperationException("sample after a fit");
        var output = buffers.Rent((long)Replicates * count * Dim);
        kernels.Sample(new RandomStream(seed, 0, (uint)iteration, RandomStreams.SyntheticChoices),
            new RandomStream(seed, 0, (uint)iteration, RandomStreams.Synthetic), firstReplicate, Replicates, Dim,
            fitted.View, capacity * Dim, (int)fittedCount, h, count, output.View);
        return new PointsBatch(output, count, buffers);
    }

    public void Fit(PointsBatch batch)
    {
        fittedCount = scoredCount = 0;
        Reserve(batch.Count, keep: false);
        Append(batch);
    }

    /// <summary>
    /// Accumulate's fitted set is the model itself: the accumulation starts it empty and each
    /// addition appends a generation (the test points' running sums then score only what is new).
    /// </summary>
    public IAccumulation<PointsBatch> BeginAccumulation(long capacity)
    {
        fittedCount = scoredCount = 0;
        Reserve(capacity, keep: false);
        return new Accumulation(this);
    }

    sealed class Accumulation(KdeFamily family) : IAccumulation<PointsBatch>
    {
        public long Count { get; private set; }

        public void AddAndFit(PointsBatch newest)
        {
            if (family.fittedCount != Count) throw new InvalidOperationException("the KDE was refitted while an accumulation was open");
            family.Reserve(Count + newest.Count, keep: true);
            family.Append(newest);
            Count += newest.Count;
        }

        public void Dispose()
        {
        }
    }

    void Reserve(long needed, bool keep)
    {
        if (fitted is not null && capacity >= needed) return;
        var grown = Math.Max(needed, 2 * capacity);
        var fresh = memory.Allocate<double>(Replicates * grown * Dim);
        if (keep && fitted is not null && fittedCount > 0)
            for (var r = 0; r < Replicates; r++)
                fitted.View.SubView(r * capacity * Dim, fittedCount * Dim).CopyTo(fresh.View.SubView(r * grown * Dim, fittedCount * Dim));
        fitted?.Dispose();
        (fitted, capacity) = (fresh, grown);
    }

    /// <summary>Appends a batch to every replicate's fitted points and sets the bandwidth for the new count.</summary>
    void Append(PointsBatch batch)
    {
        var rows = (long)batch.Count * Dim;
        if (capacity == batch.Count && fittedCount == 0) batch.Points.View.SubView(0, Replicates * rows).CopyTo(fitted!.View);
        else
            for (var r = 0; r < Replicates; r++)
                batch.Points.View.SubView(r * rows, rows).CopyTo(fitted!.View.SubView((r * capacity + fittedCount) * Dim, rows));
        fittedCount += batch.Count;
        h = bandwidth.Value(fittedCount, Dim);
    }

    public IDataPool<PointsBatch> CreatePool(long capacity) => new PointPool(points, Replicates, Dim, capacity, seed, firstReplicate, buffers, poolBuffers);

    /// <summary>
    /// Scores the fitted points not yet in the test points' running sums: only the newest
    /// generation under Accumulate with a fixed bandwidth, all of them after a refit or a
    /// bandwidth change.
    /// </summary>
    public void Evaluate(MetricTable metrics, PointsBatch? nextGeneration)
    {
        if (fitted is null || fittedCount == 0) throw new InvalidOperationException("evaluate after a fit");
        if (scoredCount == 0 || scoredH != h)
        {
            kernels.Reset(state.View);
            scoredCount = 0;
        }
        SkippedPairs += kernels.Accumulate(Replicates, Dim, test.View, testSize, fitted.View.SubView(scoredCount * Dim, fitted.Length - scoredCount * Dim), capacity * Dim,
            (int)(fittedCount - scoredCount), h, state.View);
        ScoredPairs += (long)Replicates * testSize * (fittedCount - scoredCount);
        (scoredCount, scoredH) = (fittedCount, h);
        var means = kernels.MeanNegativeLogLikelihood(state.View, testSize, fittedCount, Dim, h, nll.View);
        for (var r = 0; r < Replicates; r++) metrics[r, NllTest] = means[r];
    }

    /// <summary>The fitted points of every replicate, [replicate][point][dim] (tests and pictures).</summary>
    public double[] FittedPoints()
    {
        if (fitted is null) return [];
        var whole = fitted.GetAsArray1D();
        var all = new double[Replicates * fittedCount * Dim];
        for (var r = 0; r < Replicates; r++)
            Array.Copy(whole, r * capacity * Dim, all, r * fittedCount * Dim, fittedCount * Dim);
        return all;
    }

    /// <summary>Every replicate's held-out test points, [replicate][test][dim].</summary>
    public double[] TestPoints() => test.GetAsArray1D();

    public void Dispose()
    {
        test.Dispose();
        state.Dispose();
        nll.Dispose();
        fitted?.Dispose();
        buffers.Dispose();
    }
}
