
namespace Collapse.Engine.Families.Regression;

/// <summary>
/// Linear regression as the authors run it (their <c>fit_linear_regressions</c>, after Gerstgrasser
/// et al. 2024), for one batch of replicates of one (d, n, σ²) cell. Per seed: w* ~ N(0, I_d), one
/// design X (n × d, standard normal rows) reused by every generation, and a test Gram
/// X_testᵀX_test/m of m fresh test points. Generation labels are X·ŵ + σε (ŵ = w* for the real
/// data); a fit is the minimum-norm least-squares solution (the pseudo-inverse's), so n ≤ d works.
/// Whole generations share X, so Replace and Accumulate fit through X's Gram pseudo-inverse,
/// computed once (Accumulate's t stacked copies of X give t·XᵀX and Xᵀ·Σ_k y_k); a subsample's
/// records are rows of X with repeats, fitted from their weighted normal equations.
/// </summary>
public sealed class RegressionFamily : IModelFamily<LabelsBatch>
{
    readonly RegressionKernels kernels;
    readonly DeviceMemory memory;
    readonly PointBuffers buffers;
    readonly RegressionShape shape;
    readonly double sigma;
    readonly uint seed;
    readonly int firstReplicate, testSize;
    readonly MemoryBuffer1D<double, Stride1D.Dense> design, truth, fitted, testGram, designInverse, rhs, errors;
    // A fit's scratch: the subsample's weighted Gram, its factor and solve.
    readonly MemoryBuffer1D<double, Stride1D.Dense> weights, sums, gram, factor, factorScratch, solveScratch, scaledRows, vectors;
    readonly MemoryBuffer1D<int, Stride1D.Dense> perm, rank, maxRank;
    readonly MemoryBuffer1D<float, Stride1D.Dense>? normals;
    readonly double[] hostErrors;
    bool modelIsTruth = true;

    /// <param name="noiseVariance">σ², the variance of every label's noise.</param>
    /// <param name="testSize">Test points per seed (the authors use 1,000).</param>
    /// <param name="firstReplicate">Global index of this batch's first replicate: replicate r draws as seed index firstReplicate + r.</param>
    public RegressionFamily(RegressionKernels kernels, PointBuffers buffers, int dim, int n, double noiseVariance, int testSize,
        int replicates, int firstReplicate, uint seed)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dimension must be at least 1");
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "at least one design row");
        if (replicates < 1) throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "at least one replicate");
        if (!(noiseVariance >= 0) || !double.IsFinite(noiseVariance)) throw new ArgumentOutOfRangeException(nameof(noiseVariance), noiseVariance, "a finite σ² ≥ 0");
        if (testSize < 1) throw new ArgumentOutOfRangeException(nameof(testSize), testSize, "at least one test point");
        (this.kernels, this.buffers, this.seed, this.firstReplicate, this.testSize) = (kernels, buffers, seed, firstReplicate, testSize);
        memory = buffers.Memory;
        shape = new RegressionShape(replicates, dim, n);
        sigma = Math.Sqrt(noiseVariance);
        var (d, ld) = (dim, shape.Stride);

        design = memory.Allocate<double>(shape.DesignLength);
        truth = memory.Allocate<double>(shape.VectorLength);
        fitted = memory.Allocate<double>(shape.VectorLength);
        testGram = memory.Allocate<double>(shape.MatrixLength);
        designInverse = memory.Allocate<double>(shape.MatrixLength);
        rhs = memory.Allocate<double>(shape.VectorLength);
        errors = memory.Allocate<double>(2L * replicates);
        weights = memory.Allocate<double>(shape.LabelsLength);
        sums = memory.Allocate<double>(shape.LabelsLength);
        gram = memory.Allocate<double>(shape.MatrixLength);
        factor = memory.Allocate<double>(shape.MatrixLength);
        solveScratch = memory.Allocate<double>(replicates * shape.SolveScratchPerReplicate);
        vectors = memory.Allocate<double>(2 * shape.VectorLength);
        factorScratch = memory.Allocate<double>(kernels.FactorScratchLength(replicates, d));
        scaledRows = memory.Allocate<double>(kernels.UsesSimd ? shape.DesignLength : 1);
        perm = memory.Allocate<int>((long)replicates * d);
        rank = memory.Allocate<int>(replicates);
        maxRank = memory.Allocate<int>(replicates);
        normals = kernels.UsesSimd ? null : memory.Allocate<float>((long)replicates * n * d);
        hostErrors = new double[2 * replicates];
        foreach (var b in new[] { design, truth, fitted, rhs, vectors }) b.MemSetToZero();

        // The seed's regression problem, drawn once: w*, the design, the test set (kept only as its Gram).
        kernels.NormalRows(Stream(0, RandomStreams.Distribution), firstReplicate, replicates, 1, d, ld, truth.View, normals?.View ?? default);
        kernels.NormalRows(Stream(0, RandomStreams.Design), firstReplicate, replicates, n, d, ld, design.View, normals?.View ?? default);
        using (var testRows = memory.Allocate<double>((long)replicates * testSize * ld))
        using (var testNormals = kernels.UsesSimd ? null : memory.Allocate<float>((long)replicates * testSize * d))
        {
            testRows.MemSetToZero();
            kernels.NormalRows(Stream(0, RandomStreams.TestData), firstReplicate, replicates, testSize, d, ld, testRows.View, testNormals?.View ?? default);
            kernels.Gram(replicates, testSize, d, ld, testRows.View, default, 1.0 / testSize, testGram.View, default);
            kernels.Synchronize();
        }
        // XᵀX has rank min(d, n); its pseudo-inverse serves every fit of whole generations.
        maxRank.View.CopyFromCPU(Enumerable.Repeat(Math.Min(d, n), replicates).ToArray());
        kernels.Gram(replicates, n, d, ld, design.View, default, 1.0, gram.View, default);
        kernels.Factor(replicates, d, ld, gram.View, maxRank.View, factor.View, perm.View, rank.View, factorScratch.View);
        kernels.PseudoInverse(shape, factor.View, perm.View, rank.View, solveScratch.View, vectors.View, designInverse.View);
        truth.View.CopyTo(fitted.View);
        kernels.Synchronize();
    }

    /// <summary>
    /// Estimated bytes per replicate the constructor allocates (with its transient test set), one
    /// generation of labels (the chain returns the newest before the next is drawn), Accumulate's
    /// running sums when <paramref name="accumulates"/>, and a pool of <paramref name="poolCapacity"/> labels (0: none).
    /// </summary>
    public static long BytesPerReplicate(int dim, int n, int testSize, bool simd, bool accumulates, long poolCapacity)
    {
        long d = dim, ld = Kernels.Gaussian.GaussianShape.StrideOf(dim);
        var model = 8 * (n * ld + 5 * ld + 2 + 4 * d * d + 2 * (long)n + d * d + 2 * d) + 4 * (d + 2)
                    + (simd ? 8 * (2 * d * ld + n * ld) : 4L * n * d + 8 * (d * ld + 1));
        var testSet = 8L * testSize * ld + (simd ? 0 : 4L * testSize * d);
        return model + testSet + 8L * n * (accumulates ? 3 : 2) + (poolCapacity > 0 ? LabelPool.BytesPerReplicate(poolCapacity, n) : 0);
    }

    public static readonly FamilyCapabilities Declared = new() { MergesAccumulated = true, Pools = true };

    public int Replicates => shape.Replicates;
    public int Dim => shape.Dim;
    public int N => shape.N;
    public FamilyCapabilities Capabilities => Declared;
    public MetricSet Metrics => RegressionMetrics.All;

    RandomStream Stream(int iteration, uint stream) => new(seed, 0, (uint)iteration, stream);

    /// <summary>The real labels X·w* + σε (stream RealData of iteration 1); a fitted family restores the truth first.</summary>
    public LabelsBatch DrawReal(int count)
    {
        if (!modelIsTruth)
        {
            truth.View.CopyTo(fitted.View);
            modelIsTruth = true;
        }
        return Draw(count, 1, RandomStreams.RealData);
    }

    public LabelsBatch Sample(int count, int iteration) => Draw(count, iteration, RandomStreams.Synthetic);

    LabelsBatch Draw(int count, int iteration, uint stream)
    {
        if (count != shape.N)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"every generation labels the seed's fixed design of {shape.N} rows");
        var labels = buffers.Rent(shape.LabelsLength);
        kernels.Labels(shape, Stream(iteration, stream), firstReplicate, design.View, fitted.View, sigma, labels.View, normals?.View ?? default);
        return new LabelsBatch(labels, count, buffers);
    }

    public void Fit(LabelsBatch data)
    {
        modelIsTruth = false;
        if (data.RowOf is null) FitWhole(data.Labels.View, 1.0);
        else FitSubsample(data);
    }

    /// <summary>ŵ = (XᵀX)⁺ Xᵀ (s / copies): the least-squares fit to <paramref name="copies"/> stacked copies of X whose labels sum to s.</summary>
    void FitWhole(ArrayView<double> labelSums, double copies)
    {
        kernels.Rhs(shape, design.View, labelSums, 1.0 / copies, rhs.View);
        kernels.MatVec(shape, designInverse.View, rhs.View, fitted.View);
    }

    /// <summary>The minimum-norm fit to the subsample's rows: (Xᵀ C X)⁺ Xᵀ s, C the copies of each row, of rank min(d, distinct rows).</summary>
    void FitSubsample(LabelsBatch data)
    {
        var (d, ld) = (shape.Dim, shape.Stride);
        kernels.Tally(shape, data.RowOf!.View, data.Labels.View, data.Count, weights.View, sums.View, maxRank.View);
        kernels.Gram(shape.Replicates, shape.N, d, ld, design.View, weights.View, 1.0, gram.View, scaledRows.View);
        kernels.Factor(shape.Replicates, d, ld, gram.View, maxRank.View, factor.View, perm.View, rank.View, factorScratch.View);
        kernels.Rhs(shape, design.View, sums.View, 1.0, rhs.View);
        kernels.Solve(shape, factor.View, perm.View, rank.View, rhs.View, solveScratch.View, fitted.View);
    }

    public IAccumulation<LabelsBatch> BeginAccumulation(long capacity) => new Accumulation(this);

    public IDataPool<LabelsBatch> CreatePool(long capacity) =>
        new LabelPool(kernels, shape.Replicates, shape.N, capacity, seed, firstReplicate, buffers);

    /// <summary>Accumulate's state: every generation's labels summed per design row, and how many generations.</summary>
    sealed class Accumulation(RegressionFamily family) : IAccumulation<LabelsBatch>
    {
        readonly MemoryBuffer1D<double, Stride1D.Dense> labelSums = family.memory.Allocate<double>(family.shape.LabelsLength);
        int generations;

        public long Count => (long)generations * family.shape.N;

        public void AddAndFit(LabelsBatch newest)
        {
            if (newest.RowOf is not null || newest.Count != family.shape.N)
                throw new ArgumentException("Accumulate adds whole generations (record i is design row i)", nameof(newest));
            if (generations == 0) newest.Labels.View.CopyTo(labelSums.View);
            else family.kernels.AddInto(labelSums.View, newest.Labels.View);
            generations++;
            family.modelIsTruth = false;
            family.FitWhole(labelSums.View, generations);
        }

        public void Dispose() => labelSums.Dispose();
    }

    public void Evaluate(MetricTable metrics, LabelsBatch? nextGeneration)
    {
        kernels.Errors(shape, fitted.View, truth.View, testGram.View, errors.View);
        kernels.Synchronize();
        errors.View.CopyToCPU(hostErrors);
        for (var r = 0; r < shape.Replicates; r++)
        {
            metrics[r, RegressionMetrics.TestMse] = hostErrors[2 * r];
            metrics[r, RegressionMetrics.WeightError] = hostErrors[2 * r + 1];
        }
    }

    /// <summary>The current fits ŵ [R][d] and the truths w* [R][d] on the host (tests compare them with references).</summary>
    public (double[] Fitted, double[] Truth) HostWeights()
    {
        kernels.Synchronize();
        var (d, ld) = (shape.Dim, shape.Stride);
        var f = fitted.GetAsArray1D();
        var t = truth.GetAsArray1D();
        var outF = new double[(long)shape.Replicates * d];
        var outT = new double[(long)shape.Replicates * d];
        for (var r = 0; r < shape.Replicates; r++)
            for (var k = 0; k < d; k++)
            {
                outF[(long)r * d + k] = f[(long)r * ld + k];
                outT[(long)r * d + k] = t[(long)r * ld + k];
            }
        return (outF, outT);
    }

    /// <summary>The design [R][n][d] and test Gram [R][d][d] on the host.</summary>
    public (double[] Design, double[] TestGram) HostProblem()
    {
        kernels.Synchronize();
        var (n, d, ld) = (shape.N, shape.Dim, shape.Stride);
        var x = design.GetAsArray1D();
        var result = new double[(long)shape.Replicates * n * d];
        for (long row = 0; row < (long)shape.Replicates * n; row++)
            Array.Copy(x, row * ld, result, row * d, d);
        return (result, testGram.GetAsArray1D());
    }

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer?[] { design, truth, fitted, testGram, designInverse, rhs, errors, weights, sums, gram, factor,
                     factorScratch, solveScratch, scaledRows, vectors, perm, rank, maxRank, normals })
            b?.Dispose();
    }
}
