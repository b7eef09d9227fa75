using Collapse.Engine.Data;
using Collapse.Engine.Families.Points;
using Collapse.Kernels.Kde;
using Collapse.Kernels.Points;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Engine.Families.Kde;

/// <summary>
/// The Gaussian-kernel density estimator (docs/DESIGN.md, section B) for one batch of replicates of
/// one (dataset, bandwidth, n) cell. Fitting a KDE is keeping its points; the work is scoring the
/// seed's held-out real test set. Each test point keeps a running log-sum-exp over the fitted
/// points already scored, so when the bandwidth does not change with the pool (a fixed h),
/// Accumulate scores only the newest generation: O(test × n) per iteration, not O(test × t·n).
/// </summary>
public sealed class KdeFamily : IModelFamily
{
    public static readonly IReadOnlyList<string> Metrics = ["nll_test"];

    readonly Accelerator accelerator;
    readonly KdeKernels kernels;
    readonly PointKernels points;
    readonly Bandwidth bandwidth;
    readonly uint seed;
    readonly int firstReplicate, testSize;
    readonly ToyDistribution[] distributions;
    readonly PointBuffers buffers;
    readonly PointBuffers? poolBuffers;

    // Held-out real test points [replicate][test][dim] and their running (max, sum) [replicate][test][2].
    readonly MemoryBuffer1D<double, Stride1D.Dense> test, state;
    readonly double[] hostState;
    // The current models: fittedCount points per replicate, [replicate][capacity][dim].
    MemoryBuffer1D<double, Stride1D.Dense>? fitted;
    long capacity, fittedCount, scoredCount;
    bool accumulating;
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
        (this.accelerator, this.kernels, this.points, this.bandwidth) = (accelerator, kernels, points, bandwidth);
        (this.seed, this.firstReplicate, this.testSize, this.poolBuffers) = (seed, firstReplicate, testSize, poolBuffers);
        Replicates = replicates;
        Dataset = dataset;
        Dim = dataset.Dim();
        buffers = new PointBuffers(accelerator);
        // One real distribution per seed (its blob centers), shared by the training data and the test set.
        distributions = [.. Enumerable.Range(0, replicates).Select(r =>
            ToyDistribution.ForSeed(dataset, Stream(r, 0, RandomStreams.Distribution)))];
        test = accelerator.Allocate1D(HostPoints(testSize, 0, RandomStreams.TestData, RandomStreams.TestDataUniforms));
        state = accelerator.Allocate1D<double>(2L * replicates * testSize);
        hostState = new double[state.Length];
        if (fittedCapacity > 0) Reserve(fittedCapacity, keep: false);
    }

    public int Replicates { get; }
    public ToyDataset Dataset { get; }
    public Bandwidth Bandwidth => bandwidth;
    public int Dim { get; }
    public IReadOnlyList<string> MetricNames => Metrics;

    /// <summary>Test-point × fitted-point pairs scored so far, over all replicates (the work that dominates).</summary>
    public long ScoredPairs { get; private set; }

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

    public IDataBatch DrawReal(int count)
    {
        var batch = buffers.Rent((long)Replicates * count * Dim);
        batch.View.CopyFromCPU(HostPoints(count, 1, RandomStreams.RealData, RandomStreams.RealDataUniforms));
        return new PointsBatch(batch, count, buffers);
    }

    public IDataBatch Sample(int count, int iteration)
    {
        if (fitted is null || fittedCount == 0) throw new InvalidOperationException("sample after a fit");
        var output = buffers.Rent((long)Replicates * count * Dim);
        kernels.Sample(new RandomStream(seed, 0, (uint)iteration, RandomStreams.SyntheticChoices),
            new RandomStream(seed, 0, (uint)iteration, RandomStreams.Synthetic), firstReplicate, Replicates, Dim,
            fitted.View, capacity * Dim, (int)fittedCount, h, count, output.View);
        return new PointsBatch(output, count, buffers);
    }

    public void Fit(IDataBatch data)
    {
        var batch = Points(data);
        accumulating = false;
        fittedCount = 0;
        Reserve(batch.Count, keep: false);
        Append(batch);
        scoredCount = 0;
    }

    public void FitAccumulated(IDataBatch newest)
    {
        var batch = Points(newest);
        if (!accumulating) fittedCount = scoredCount = 0;
        accumulating = true;
        Reserve(fittedCount + batch.Count, keep: true);
        Append(batch);
    }

    static PointsBatch Points(IDataBatch data) =>
        data as PointsBatch ?? throw new ArgumentException($"not a batch of points: {data.GetType().Name}", nameof(data));

    void Reserve(long needed, bool keep)
    {
        if (fitted is not null && capacity >= needed) return;
        var grown = Math.Max(needed, 2 * capacity);
        var fresh = accelerator.Allocate1D<double>(Replicates * grown * Dim);
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

    public IDataPool CreatePool(long capacity) => new PointPool(points, Replicates, Dim, capacity, seed, firstReplicate, buffers, poolBuffers);

    /// <summary>
    /// Scores the fitted points not yet in the test points' running sums: only the newest
    /// generation under Accumulate with a fixed bandwidth, all of them after a refit or a
    /// bandwidth change.
    /// </summary>
    public void Evaluate(double[,] metrics)
    {
        if (fitted is null || fittedCount == 0) throw new InvalidOperationException("evaluate after a fit");
        if (scoredCount == 0 || scoredH != h)
        {
            kernels.Reset(state.View);
            scoredCount = 0;
        }
        kernels.Accumulate(Replicates, Dim, test.View, testSize, fitted.View.SubView(scoredCount * Dim, fitted.Length - scoredCount * Dim), capacity * Dim,
            (int)(fittedCount - scoredCount), h, state.View);
        ScoredPairs += (long)Replicates * testSize * (fittedCount - scoredCount);
        (scoredCount, scoredH) = (fittedCount, h);
        accelerator.Synchronize();
        state.View.CopyToCPU(hostState);
        var nll = KdeKernels.MeanNegativeLogLikelihood(hostState, Replicates, testSize, fittedCount, Dim, h);
        for (var r = 0; r < Replicates; r++) metrics[r, 0] = nll[r];
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
        fitted?.Dispose();
        buffers.Dispose();
    }
}
