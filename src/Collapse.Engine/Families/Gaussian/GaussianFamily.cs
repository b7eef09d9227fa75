namespace Collapse.Engine.Families.Gaussian;

/// <summary>
/// The Gaussian family as the paper runs it (method <c>data</c>): every generation is n points
/// sampled inside the fitted subspace, [replicate][point][stride] on the device, and every fit is
/// the sample mean and biased covariance of its points.
/// </summary>
public sealed class GaussianFamily : GaussianModelFamily<PointsBatch>
{
    readonly PointBuffers buffers;
    readonly PointBuffers? poolBuffers;
    MemoryBuffer1D<float, Stride1D.Dense>? normals;

    /// <param name="poolBuffers">Where Accumulate-Subsample pools come from, so a sweep reuses one allocation across cells (and its memory ledger is used throughout).</param>
    public GaussianFamily(Accelerator accelerator, GaussianKernels kernels, int dim, int replicates, int firstReplicate,
        uint seed, PointBuffers? poolBuffers = null)
        : base(poolBuffers?.Memory ?? new DeviceMemory(accelerator), kernels, dim, replicates, firstReplicate, seed)
    {
        this.poolBuffers = poolBuffers;
        buffers = new PointBuffers(memory);
    }

    /// <summary>What the data method supports (every setting), known before any family is made.</summary>
    public static readonly FamilyCapabilities Declared = new() { MergesAccumulated = true, Pools = true };

    public override FamilyCapabilities Capabilities => Declared;

    /// <summary>
    /// Estimated bytes per replicate of a chain with n points per generation: the model
    /// (<see cref="GaussianModelFamily{TBatch}.ModelBytesPerReplicate"/>), one generation of points
    /// (the chain returns the newest to <see cref="PointBuffers"/> before the next is sampled into
    /// it), the float normals the ILGPU sampler draws into, and an Accumulate-Subsample pool of
    /// <paramref name="poolCapacity"/> points with its subsample (0: none).
    /// </summary>
    public static long BytesPerReplicate(int dim, int n, bool accumulates, bool simdSampling, long poolCapacity)
    {
        var ld = GaussianShape.StrideOf(dim);
        return ModelBytesPerReplicate(dim, accumulates) + 8L * n * ld + (simdSampling ? 0 : 4L * n * dim)
            + (poolCapacity > 0 ? PointPool.BytesPerReplicate(ld, poolCapacity, n) : 0);
    }

    /// <summary>A batch drawn by this family from the model as it was at version <paramref name="Version"/>, its normals in the buffer.</summary>
    sealed record Deferral(GaussianFamily Family, long Version)
    {
        /// <summary>Whether a fit took its moments from the normals (then nothing draws it when the model changes).</summary>
        public bool MomentsTaken { get; set; }
    }

    // Deferred batches drawn from the current model: before the model changes, those no fit has
    // used yet get their points (a mix holds its synthetic pool across refits and reads it later).
    readonly List<PointsBatch> deferred = [];

    protected override void BeforeModelChange() => DrawDeferred(except: null);

    void DrawDeferred(PointsBatch? except)
    {
        foreach (var batch in deferred)
            if (!ReferenceEquals(batch, except) && batch.Deferral is Deferral { MomentsTaken: false })
                _ = batch.Points;
        deferred.RemoveAll(batch => !ReferenceEquals(batch, except));
    }

    protected override PointsBatch Draw(int count, int iteration, uint stream)
    {
        var points = buffers.Rent(shape.PointsLength(count));
        if (kernels.DefersSamples(count, shape.Dim))
        {
            // Only the normals now: a fit that needs just the moments takes them from these (as
            // Replace and Accumulate do); anything that reads the points has them transformed from
            // these normals first, the same bits as drawing them here, provided the model has not changed since.
            var random = Stream(iteration, stream);
            var version = ModelVersion;
            kernels.DrawNormals(shape, random, firstReplicate, count, points.View, (long)count * shape.Stride);
            var batch = PointsBatch.Deferred(points, count, buffers, new Deferral(this, version), () =>
            {
                if (ModelVersion != version)
                    throw new InvalidOperationException(
                        "the points of a Gaussian sample whose moments a fit took from its normals were read after that fit changed the model; read a sample's points before fitting it");
                kernels.SampleFromNormals(shape, model, count, points.View, (long)count * shape.Stride);
            });
            deferred.RemoveAll(b => b.Deferral is null); // drawn or disposed since
            deferred.Add(batch);
            return batch;
        }
        if (!kernels.UsesSimd && (normals is null || normals.Length < (long)shape.Replicates * count * shape.Dim))
        {
            normals?.Dispose();
            normals = memory.Allocate<float>((long)shape.Replicates * count * shape.Dim);
        }
        kernels.Sample(shape, Stream(iteration, stream), firstReplicate, model, count, points.View, (long)count * shape.Stride, normals?.View ?? default);
        return new PointsBatch(points, count, buffers);
    }

    protected override void FitModel(PointsBatch data) => FitMoments(data);

    protected override void Moments(PointsBatch batch, ArrayView<double> mean, ArrayView<double> m2)
    {
        // The moments may go straight into the model's mean, so every other deferred draw happens first.
        DrawDeferred(except: batch);
        if (batch.Deferral is Deferral deferral && deferral.Family == this && deferral.Version == ModelVersion)
        {
            kernels.MomentsOfSample(shape, model, batch.UndrawnBuffer.View, (long)batch.Count * shape.Stride, batch.Count, mean, m2);
            deferral.MomentsTaken = true;
        }
        else
            kernels.Moments(shape, batch.Points.View, (long)batch.Count * shape.Stride, batch.Count, mean, m2);
    }

    public override IDataPool<PointsBatch> CreatePool(long capacity) =>
        new PointPool(kernels.Points, shape.Replicates, shape.Stride, capacity, seed, firstReplicate, buffers, poolBuffers);

    public override void Dispose()
    {
        base.Dispose();
        normals?.Dispose();
        buffers.Dispose();
    }
}
