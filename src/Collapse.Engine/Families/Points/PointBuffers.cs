namespace Collapse.Engine.Families.Points;

/// <summary>count points per replicate on the device, [replicate][point][stride] (the family decides the stride).</summary>
public sealed class PointsBatch(MemoryBuffer1D<double, Stride1D.Dense> points, int count, PointBuffers? owner = null) : IDataBatch
{
    // A deferred batch: the family that drew it holds what it needs in the buffer (not yet the
    // points) and draws the points on first use of Points; a fit that needs only their moments
    // can take them without drawing (see GaussianFamily).
    Action? draw;

    /// <summary>Who deferred the drawing, and with what model; null once the points are drawn.</summary>
    internal object? Deferral { get; private set; }

    /// <summary>
    /// A batch whose points <paramref name="draw"/> writes into <paramref name="buffer"/> the first
    /// time <see cref="Points"/> is read; until then the buffer holds whatever the drawer left there
    /// for itself (<see cref="UndrawnBuffer"/>), described by <paramref name="deferral"/>.
    /// </summary>
    internal static PointsBatch Deferred(MemoryBuffer1D<double, Stride1D.Dense> buffer, int count, PointBuffers owner, object deferral, Action draw) =>
        new(buffer, count, owner) { draw = draw, Deferral = deferral };

    /// <summary>The points, drawn now if the batch was deferred.</summary>
    public MemoryBuffer1D<double, Stride1D.Dense> Points
    {
        get
        {
            if (draw is { } pending)
            {
                // Drawn first, cleared after: a draw that refuses leaves the batch refusing, never its normals read as points.
                pending();
                draw = null;
                Deferral = null;
            }
            return points;
        }
    }

    /// <summary>The buffer as the drawer left it, without drawing (only for the drawer, while <see cref="Deferral"/> is set).</summary>
    internal MemoryBuffer1D<double, Stride1D.Dense> UndrawnBuffer =>
        Deferral is not null ? points : throw new InvalidOperationException("the batch's points are drawn; read Points");

    public int Count { get; } = count;

    public void Dispose()
    {
        draw = null;
        Deferral = null;
        if (owner is null) points.Dispose();
        else owner.Return(points);
    }

    /// <summary>
    /// The first <paramref name="countA"/> points of <paramref name="a"/> then the first
    /// <paramref name="countB"/> of <paramref name="b"/>, per replicate, as a new batch from
    /// <paramref name="buffers"/> (whole rows are copied, so padding columns stay zero).
    /// </summary>
    public static PointsBatch Concat(PointBuffers buffers, int replicates, int stride, PointsBatch a, int countA, PointsBatch b, int countB)
    {
        if (countA < 0 || countA > a.Count) throw new ArgumentOutOfRangeException(nameof(countA), countA, $"0 … {a.Count}");
        if (countB < 0 || countB > b.Count) throw new ArgumentOutOfRangeException(nameof(countB), countB, $"0 … {b.Count}");
        var count = countA + countB;
        var output = buffers.Rent((long)replicates * count * stride);
        for (var r = 0; r < replicates; r++)
        {
            var target = (long)r * count * stride;
            if (countA > 0) a.Points.View.SubView((long)r * a.Count * stride, (long)countA * stride).CopyTo(output.View.SubView(target, (long)countA * stride));
            if (countB > 0) b.Points.View.SubView((long)r * b.Count * stride, (long)countB * stride).CopyTo(output.View.SubView(target + (long)countA * stride, (long)countB * stride));
        }
        return new PointsBatch(output, count, buffers);
    }

    /// <summary>Reorders every replicate's points in place, through the host (record i becomes record orders[r][i]).</summary>
    public void Reorder(int[][] orders, int stride)
    {
        var host = Points.GetAsArray1D();
        var result = new double[host.Length];
        Parallel.For(0, orders.Length, r =>
        {
            var order = orders[r];
            if (order.Length != Count) throw new ArgumentException($"an order of {order.Length} records for a batch of {Count}", nameof(orders));
            for (var i = 0; i < Count; i++)
                Array.Copy(host, ((long)r * Count + order[i]) * stride, result, ((long)r * Count + i) * stride, stride);
        });
        Points.View.CopyFromCPU(result);
    }
}

/// <summary>
/// Reuses point buffers between iterations: allocating (and zeroing) tens of megabytes per
/// generation cost more than sampling into them. Buffers are zeroed once, when first made;
/// kernels never write their padding columns, so it stays zero.
/// </summary>
public sealed class PointBuffers(DeviceMemory memory) : IDisposable
{
    public PointBuffers(Accelerator accelerator) : this(new DeviceMemory(accelerator))
    {
    }

    public DeviceMemory Memory => memory;

    readonly List<MemoryBuffer1D<double, Stride1D.Dense>> free = [];
    bool disposed;

    internal MemoryBuffer1D<double, Stride1D.Dense> Rent(long length)
    {
        var index = free.FindIndex(b => b.Length == length);
        if (index >= 0)
        {
            var buffer = free[index];
            free.RemoveAt(index);
            return buffer;
        }
        var fresh = memory.Allocate<double>(length);
        fresh.MemSetToZero();
        return fresh;
    }

    /// <summary>The smallest free buffer of at least <paramref name="length"/> (contents undefined), else a new one.</summary>
    internal MemoryBuffer1D<double, Stride1D.Dense> RentAtLeast(long length)
    {
        var best = -1;
        for (var i = 0; i < free.Count; i++)
            if (free[i].Length >= length && (best < 0 || free[i].Length < free[best].Length)) best = i;
        if (best < 0) return memory.Allocate<double>(length);
        var buffer = free[best];
        free.RemoveAt(best);
        return buffer;
    }

    internal void Return(MemoryBuffer1D<double, Stride1D.Dense> buffer)
    {
        if (disposed) buffer.Dispose();
        else free.Add(buffer);
    }

    /// <summary>Returns a pool buffer, keeping only the largest free one: pools grow cell by cell, and gigabytes must not pile up.</summary>
    internal void ReturnKeepingLargest(MemoryBuffer1D<double, Stride1D.Dense> buffer)
    {
        Return(buffer);
        if (disposed || free.Count < 2) return;
        var largest = free.MaxBy(b => b.Length)!;
        foreach (var b in free.Where(b => b != largest)) b.Dispose();
        free.RemoveAll(b => b != largest);
    }

    public void Dispose()
    {
        disposed = true;
        foreach (var b in free) b.Dispose();
        free.Clear();
    }
}
