namespace Collapse.Engine.Mix;

/// <summary>
/// Linear regression in the mix study (this suite's extension: the authors ran the study for the
/// language model only). Per seed, w* ~ N(0, I_d) and the generator's real set, G records (x, y) with
/// x ~ N(0, I_d) and y = x·w* + σε, i.i.d., so every prefix is a random subset; the generator is the
/// minimum-norm least-squares fit ŵ_g to all of them, and its synthetic records are fresh x ~ N(0, I_d)
/// labelled x·ŵ_g + σε (a linear model's samples: the design distribution is known, the labels come from
/// the model). Each grid point fits the first num_real real and first num_synthetic synthetic records
/// together (the sum of their Grams and right-hand sides) and is scored by its test MSE on the seed's
/// fresh test points, as in the chain experiment. Not a <see cref="MixModels{TBatch}"/>: the chain
/// family's records are labels of one fixed design, and here every record brings its own row.
/// </summary>
public sealed class RegressionMixModels : IMixBatch
{
    public static readonly IReadOnlyList<string> Columns = ["dim", "sigma_squared", "weight_error"];

    readonly RegressionKernels kernels;
    readonly DeviceMemory memory;
    readonly int replicates, dim, testSize;
    readonly double sigma;
    readonly string[] extra;
    MemoryBuffer1D<double, Stride1D.Dense>? realRows, realLabels, syntheticRows, syntheticLabels;
    readonly MemoryBuffer1D<double, Stride1D.Dense> truth, fitted, testGram, gram, gramB, factor, rhs, rhsB, errors, factorScratch, solveScratch;
    readonly MemoryBuffer1D<int, Stride1D.Dense> perm, rank, maxRank;
    readonly double[] hostErrors;
    int generatorReal, poolSize;

    public RegressionMixModels(RegressionKernels kernels, DeviceMemory memory, int dim, double noiseVariance, int testSize, int replicates)
    {
        (this.kernels, this.memory, this.dim, this.testSize, this.replicates) = (kernels, memory, dim, testSize, replicates);
        sigma = Math.Sqrt(noiseVariance);
        extra = [dim.ToString(CultureInfo.InvariantCulture), CsvNumber.Format(noiseVariance)];
        var ld = Kernels.Gaussian.GaussianShape.StrideOf(dim);
        var (vector, matrix) = ((long)replicates * ld, (long)replicates * dim * dim);
        truth = memory.Allocate<double>(vector);
        fitted = memory.Allocate<double>(vector);
        rhs = memory.Allocate<double>(vector);
        rhsB = memory.Allocate<double>(vector);
        testGram = memory.Allocate<double>(matrix);
        gram = memory.Allocate<double>(matrix);
        gramB = memory.Allocate<double>(matrix);
        factor = memory.Allocate<double>(matrix);
        factorScratch = memory.Allocate<double>(kernels.FactorScratchLength(replicates, dim));
        solveScratch = memory.Allocate<double>(replicates * new RegressionShape(replicates, dim, 1).SolveScratchPerReplicate);
        errors = memory.Allocate<double>(2L * replicates);
        perm = memory.Allocate<int>((long)replicates * dim);
        rank = memory.Allocate<int>(replicates);
        maxRank = memory.Allocate<int>(replicates);
        hostErrors = new double[2 * replicates];
        foreach (var b in new[] { truth, fitted }) b.MemSetToZero();
    }

    /// <summary>Estimated bytes per replicate: the real set and the pool (rows and labels), the transient test set, the fit's matrices and solve scratch.</summary>
    public static long BytesPerReplicate(int dim, int generatorReal, int poolSize, int testSize, bool simd)
    {
        long d = dim, ld = Kernels.Gaussian.GaussianShape.StrideOf(dim);
        var records = (long)generatorReal + poolSize;
        var normals = simd ? 0 : 4L * d * Math.Max(Math.Max(generatorReal, poolSize), testSize);
        return 8 * (records * (ld + 1) + (long)testSize * ld + 4 * ld + 5 * d * d + 2 * d + 2) + 4 * (d + 2) + (simd ? 16 * d * ld : 8 * (d * ld + 1)) + normals;
    }

    public int Replicates => replicates;
    int Stride => Kernels.Gaussian.GaussianShape.StrideOf(dim);

    public void Generate(uint seed, int firstReplicate, int generatorReal, int poolSize)
    {
        (this.generatorReal, this.poolSize) = (generatorReal, poolSize);
        var ld = Stride;
        RandomStream Stream(int iteration, uint stream) => new(seed, 0, (uint)iteration, stream);
        using var normals = kernels.UsesSimd ? null : memory.Allocate<float>((long)replicates * dim * Math.Max(Math.Max(generatorReal, poolSize), Math.Max(testSize, 1)));
        var scratch = normals?.View ?? default;
        kernels.NormalRows(Stream(0, RandomStreams.Distribution), firstReplicate, replicates, 1, dim, ld, truth.View, scratch);
        using (var testRows = memory.Allocate<double>((long)replicates * testSize * ld))
        {
            testRows.MemSetToZero();
            kernels.NormalRows(Stream(0, RandomStreams.TestData), firstReplicate, replicates, testSize, dim, ld, testRows.View, scratch);
            kernels.Gram(replicates, testSize, dim, ld, testRows.View, default, 1.0 / testSize, testGram.View, default);
            kernels.Synchronize();
        }
        (realRows, realLabels) = Records(generatorReal, Stream(1, RandomStreams.Design), Stream(1, RandomStreams.RealData), truth, firstReplicate, scratch);
        if (poolSize <= 0) return;
        // The generator: the fit to the whole real set; its pool, fresh rows (iteration 2's design stream) labelled by it.
        Fit(generatorReal, 0);
        (syntheticRows, syntheticLabels) = Records(poolSize, Stream(2, RandomStreams.Design), Stream(2, RandomStreams.Synthetic), fitted, firstReplicate, scratch);
    }

    (MemoryBuffer1D<double, Stride1D.Dense> Rows, MemoryBuffer1D<double, Stride1D.Dense> Labels) Records(int count, RandomStream rowStream, RandomStream noiseStream,
        MemoryBuffer1D<double, Stride1D.Dense> weights, int firstReplicate, ArrayView<float> normals)
    {
        var shape = new RegressionShape(replicates, dim, count);
        var rows = memory.Allocate<double>(shape.DesignLength);
        var labels = memory.Allocate<double>(shape.LabelsLength);
        rows.MemSetToZero();
        kernels.NormalRows(rowStream, firstReplicate, replicates, count, dim, Stride, rows.View, normals);
        kernels.Labels(shape, noiseStream, firstReplicate, rows.View, weights.View, sigma, labels.View, normals);
        kernels.Synchronize();
        return (rows, labels);
    }

    /// <summary>The minimum-norm fit to the first numReal real and first numSynthetic synthetic records, into <see cref="fitted"/>.</summary>
    void Fit(int numReal, int numSynthetic)
    {
        var (d, ld) = (dim, Stride);
        var shape = new RegressionShape(replicates, d, 1);
        kernels.Gram(replicates, numReal, d, ld, realRows!.View, default, 1.0, gram.View, default, generatorReal);
        kernels.Rhs(replicates, numReal, generatorReal, d, ld, realRows.View, realLabels!.View, 1.0, rhs.View);
        if (numSynthetic > 0)
        {
            kernels.Gram(replicates, numSynthetic, d, ld, syntheticRows!.View, default, 1.0, gramB.View, default, poolSize);
            kernels.Rhs(replicates, numSynthetic, poolSize, d, ld, syntheticRows.View, syntheticLabels!.View, 1.0, rhsB.View);
            kernels.AddInto(gram.View, gramB.View);
            kernels.AddInto(rhs.View, rhsB.View);
        }
        // Distinct continuous rows: the Gram of m of them has rank min(d, m).
        maxRank.View.CopyFromCPU(Enumerable.Repeat(Math.Min(d, numReal + numSynthetic), replicates).ToArray());
        kernels.Factor(replicates, d, ld, gram.View, maxRank.View, factor.View, perm.View, rank.View, factorScratch.View);
        kernels.Solve(shape, factor.View, perm.View, rank.View, rhs.View, solveScratch.View, fitted.View);
        kernels.Synchronize();
    }

    public MixScore[] FitAndScore(int numReal, int numSynthetic)
    {
        if (realRows is null) throw new InvalidOperationException("generate before fitting");
        if (numReal > generatorReal || numSynthetic > poolSize)
            throw new ArgumentOutOfRangeException(nameof(numSynthetic), $"{numReal} real and {numSynthetic} synthetic records asked of {generatorReal} and {poolSize}");
        Fit(numReal, numSynthetic);
        kernels.Errors(new RegressionShape(replicates, dim, 1), fitted.View, truth.View, testGram.View, errors.View);
        kernels.Synchronize();
        errors.View.CopyToCPU(hostErrors);
        return [.. Enumerable.Range(0, replicates).Select(r =>
        {
            var (mse, weightError) = (hostErrors[2 * r], hostErrors[2 * r + 1]);
            return new MixScore(mse, [.. extra, CsvNumber.Format(weightError)],
                !double.IsFinite(mse) ? ("test_metric", mse) : !double.IsFinite(weightError) ? ("weight_error", weightError) : null);
        })];
    }

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer?[] { realRows, realLabels, syntheticRows, syntheticLabels, truth, fitted, testGram, gram, gramB, factor,
                     rhs, rhsB, errors, factorScratch, solveScratch, perm, rank, maxRank })
            b?.Dispose();
    }
}
