using Collapse.Kernels.Gaussian;

namespace Collapse.Performance.Workloads;

/// <summary>The buffers of a batch of fitted Gaussians (see <see cref="GaussianModelViews"/>).</summary>
sealed class GaussianModelBuffers : IDisposable
{
    readonly MemoryBuffer1D<double, Stride1D.Dense> mean, factorT, logDet, pivotLowerT;
    readonly MemoryBuffer1D<int, Stride1D.Dense> rank, permutation;

    public GaussianModelBuffers(Accelerator accelerator, GaussianShape shape)
    {
        mean = accelerator.Allocate1D<double>(shape.MeanLength);
        factorT = accelerator.Allocate1D<double>(shape.FactorLength);
        logDet = accelerator.Allocate1D<double>(shape.Replicates);
        pivotLowerT = accelerator.Allocate1D<double>(shape.FactorLength);
        rank = accelerator.Allocate1D<int>(shape.Replicates);
        permutation = accelerator.Allocate1D<int>(shape.MeanLength);
        Views = new GaussianModelViews
        {
            Mean = mean.View, FactorT = factorT.View, LogDet = logDet.View, PivotLowerT = pivotLowerT.View,
            Rank = rank.View, Permutation = permutation.View,
        };
    }

    public GaussianModelViews Views { get; }

    public void Dispose()
    {
        foreach (var b in new MemoryBuffer[] { mean, factorT, logDet, pivotLowerT, rank, permutation }) b.Dispose();
    }
}

/// <summary>
/// The fit's moments: mean and scatter matrix of n points for each of R replicates. Work: n·d(d + 3)
/// flops per replicate (mean, centring, the scatter's lower triangle as multiply-adds).
/// </summary>
public sealed class GaussianMomentsWorkload : IKernelWorkload
{
    readonly GaussianKernels kernels;
    readonly GaussianShape shape;
    readonly int n;
    readonly MemoryBuffer1D<double, Stride1D.Dense> points, mean, m2;
    readonly double[] hostPoints, hostMean, hostM2;

    public GaussianMomentsWorkload(Accelerator accelerator, KernelPath path, int dim, int n, int replicates)
    {
        kernels = new GaussianKernels(accelerator, path);
        shape = new GaussianShape(replicates, dim);
        this.n = n;
        hostPoints = HostData.Points(replicates, n, dim, shape.Stride, 1);
        points = accelerator.Allocate1D(hostPoints);
        mean = accelerator.Allocate1D<double>(shape.MeanLength);
        m2 = accelerator.Allocate1D<double>(shape.MatrixLength);
        hostMean = new double[dim];
        hostM2 = new double[dim * dim];
    }

    public static Work WorkFor(int dim, int n, int replicates) => new((double)replicates * n * dim * (dim + 3), WorkUnit.Flop);

    public Work Work => WorkFor(shape.Dim, n, shape.Replicates);

    public void Run()
    {
        kernels.Moments(shape, points.View, (long)n * shape.Stride, n, mean.View, m2.View);
        kernels.Synchronize();
    }

    public void RunReference()
    {
        var rows = n * shape.Stride;
        for (var r = 0; r < shape.Replicates; r++)
            PlainGaussian.Moments(hostPoints.AsSpan(r * rows, rows), n, shape.Dim, shape.Stride, hostMean, hostM2);
    }

    /// <summary>The means of the last run, [replicate][d].</summary>
    internal double[] Mean() => mean.GetAsArray1D();

    /// <summary>The scatter matrices of the last run, [replicate][d][d].</summary>
    internal double[] Scatter() => m2.GetAsArray1D();

    public void Dispose()
    {
        points.Dispose();
        mean.Dispose();
        m2.Dispose();
    }
}

/// <summary>
/// The factorization of R fitted covariances (d×d, full rank, from 4d points each). Work: d³/3
/// flops per replicate, the Cholesky count; the pivoted kernel and the plain unpivoted peer both do it.
/// </summary>
public sealed class GaussianFactorizeWorkload : IKernelWorkload
{
    readonly GaussianKernels kernels;
    readonly GaussianShape shape;
    readonly int count;
    readonly MemoryBuffer1D<double, Stride1D.Dense> m2, work;
    readonly GaussianModelBuffers model;
    readonly double[] hostM2, hostLower;

    /// <param name="grouped">The ILGPU path's kernel: one group per replicate, or one thread per replicate; null: the accelerator's default.</param>
    public GaussianFactorizeWorkload(Accelerator accelerator, KernelPath path, int dim, int replicates, bool? grouped = null)
    {
        kernels = grouped is bool g ? new GaussianKernels(accelerator, path) { GroupPerReplicate = g } : new GaussianKernels(accelerator, path);
        shape = new GaussianShape(replicates, dim);
        count = 4 * dim;
        using (var moments = new GaussianMomentsWorkload(accelerator, path, dim, count, replicates))
        {
            moments.Run();
            hostM2 = moments.Scatter();
        }
        m2 = accelerator.Allocate1D(hostM2);
        work = accelerator.Allocate1D<double>(shape.MatrixLength);
        model = new GaussianModelBuffers(accelerator, shape);
        hostLower = new double[dim * dim];
    }

    public static Work WorkFor(int dim, int replicates) => new(replicates * Math.Pow(dim, 3) / 3, WorkUnit.Flop);

    public Work Work => WorkFor(shape.Dim, shape.Replicates);

    public void Run()
    {
        kernels.Factorize(shape, m2.View, count, model.Views, work.View);
        kernels.Synchronize();
    }

    public void RunReference()
    {
        var size = shape.Dim * shape.Dim;
        for (var r = 0; r < shape.Replicates; r++)
            PlainGaussian.Cholesky(hostM2.AsSpan(r * size, size), count, shape.Dim, hostLower);
    }

    public void Dispose()
    {
        m2.Dispose();
        work.Dispose();
        model.Dispose();
    }
}

/// <summary>
/// Sampling: n points per replicate from R fitted full-rank models (normals, then x = μ + F·z).
/// Work is counted in points drawn.
/// </summary>
public sealed class GaussianSampleWorkload : IKernelWorkload
{
    readonly GaussianKernels kernels;
    readonly GaussianShape shape;
    readonly int n;
    readonly MemoryBuffer1D<double, Stride1D.Dense> points;
    readonly MemoryBuffer1D<float, Stride1D.Dense>? normals;
    readonly GaussianModelBuffers model;
    readonly double[] hostMean, hostLower, hostPoints, z;
    readonly RandomStream stream = new(1, 0, 2, 2);

    public GaussianSampleWorkload(Accelerator accelerator, KernelPath path, int dim, int n, int replicates)
    {
        kernels = new GaussianKernels(accelerator, path);
        shape = new GaussianShape(replicates, dim);
        this.n = n;
        model = new GaussianModelBuffers(accelerator, shape);
        // The models: fits to 4d standard-normal points each, as a chain's first iteration makes them.
        var fitted = 4 * dim;
        using (var moments = new GaussianMomentsWorkload(accelerator, path, dim, fitted, replicates))
        {
            moments.Run();
            var m2 = moments.Scatter();
            hostMean = moments.Mean();
            model.Views.Mean.CopyFromCPU(hostMean);
            using var m2Buffer = accelerator.Allocate1D(m2);
            using var work = accelerator.Allocate1D<double>(shape.MatrixLength);
            kernels.Factorize(shape, m2Buffer.View, fitted, model.Views, work.View);
            kernels.Synchronize();
            var size = dim * dim;
            hostLower = new double[replicates * size];
            for (var r = 0; r < replicates; r++)
                PlainGaussian.Cholesky(m2.AsSpan(r * size, size), fitted, dim, hostLower.AsSpan(r * size, size));
        }
        points = accelerator.Allocate1D<double>(shape.PointsLength(n));
        if (!kernels.UsesSimd) normals = accelerator.Allocate1D<float>((long)replicates * n * dim);
        hostPoints = new double[(long)n * shape.Stride];
        z = new double[dim];
    }

    public static Work WorkFor(int n, int replicates) => new((double)replicates * n, WorkUnit.Sample);

    public Work Work => WorkFor(n, shape.Replicates);

    /// <summary>The fitted models points are drawn from.</summary>
    internal GaussianModelViews Model => model.Views;

    /// <summary>The reference's last replicate's points (one replicate's rows; <see cref="RunReference"/> reuses them).</summary>
    internal double[] HostPoints => hostPoints;

    public void Run()
    {
        kernels.Sample(shape, stream, 0, model.Views, n, points.View, (long)n * shape.Stride, normals?.View ?? default);
        kernels.Synchronize();
    }

    public void RunReference()
    {
        var (d, size) = (shape.Dim, shape.Dim * shape.Dim);
        for (var r = 0; r < shape.Replicates; r++)
            PlainGaussian.Sample(stream.ForReplicate((uint)r), hostMean.AsSpan(r * d, d), hostLower.AsSpan(r * size, size),
                d, n, shape.Stride, hostPoints, z);
    }

    public void Dispose()
    {
        points.Dispose();
        normals?.Dispose();
        model.Dispose();
    }
}

/// <summary>
/// A fit to a fresh sample, as Replace makes one: n points per replicate drawn from R fitted
/// full-rank models, then their mean and scatter. Where the kernels defer samples (the CPU path,
/// n ≥ 4d) the points are never drawn: the moments come from the normals
/// (<see cref="GaussianKernels.MomentsOfSample"/>); elsewhere it is <see cref="GaussianKernels.Sample"/>
/// then <see cref="GaussianKernels.Moments"/>. Work is counted in points fitted.
/// </summary>
public sealed class GaussianSampleFitWorkload : IKernelWorkload
{
    readonly GaussianKernels kernels;
    readonly GaussianShape shape;
    readonly int n;
    readonly GaussianSampleWorkload sample;
    readonly MemoryBuffer1D<double, Stride1D.Dense> points, mean, m2;
    readonly MemoryBuffer1D<float, Stride1D.Dense>? normals;
    readonly double[] hostMean, hostM2;
    readonly RandomStream stream = new(1, 0, 2, 2);

    public GaussianSampleFitWorkload(Accelerator accelerator, KernelPath path, int dim, int n, int replicates)
    {
        kernels = new GaussianKernels(accelerator, path);
        shape = new GaussianShape(replicates, dim);
        this.n = n;
        sample = new GaussianSampleWorkload(accelerator, path, dim, n, replicates);
        points = accelerator.Allocate1D<double>(shape.PointsLength(n));
        points.MemSetToZero();
        mean = accelerator.Allocate1D<double>(shape.MeanLength);
        m2 = accelerator.Allocate1D<double>(shape.MatrixLength);
        if (!kernels.UsesSimd) normals = accelerator.Allocate1D<float>((long)replicates * n * dim);
        hostMean = new double[dim];
        hostM2 = new double[dim * dim];
    }

    public static Work WorkFor(int n, int replicates) => new((double)replicates * n, WorkUnit.Sample);

    public Work Work => WorkFor(n, shape.Replicates);

    public void Run()
    {
        var stride = (long)n * shape.Stride;
        if (kernels.DefersSamples(n, shape.Dim))
        {
            kernels.DrawNormals(shape, stream, 0, n, points.View, stride);
            kernels.MomentsOfSample(shape, sample.Model, points.View, stride, n, mean.View, m2.View);
        }
        else
        {
            kernels.Sample(shape, stream, 0, sample.Model, n, points.View, stride, normals?.View ?? default);
            kernels.Moments(shape, points.View, stride, n, mean.View, m2.View);
        }
        kernels.Synchronize();
    }

    /// <summary>The plain float64 reference: draw the points (one thread), then their moments.</summary>
    public void RunReference()
    {
        sample.RunReference();
        var rows = n * shape.Stride;
        for (var r = 0; r < shape.Replicates; r++)
            PlainGaussian.Moments(sample.HostPoints.AsSpan(0, rows), n, shape.Dim, shape.Stride, hostMean, hostM2);
    }

    public void Dispose()
    {
        sample.Dispose();
        points.Dispose();
        mean.Dispose();
        m2.Dispose();
        normals?.Dispose();
    }
}
