namespace Collapse.Engine.Families;

/// <summary>
/// Where a family's device buffers come from: allocates on the accelerator and keeps the peak of
/// the bytes alive at once, so the memory estimates beside each allocation (the families'
/// <c>BytesPerReplicate</c>) can be checked against what a real cell allocates.
/// </summary>
public sealed class DeviceMemory(Accelerator accelerator)
{
    readonly List<MemoryBuffer> live = [];

    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>The most bytes alive at once through this ledger.</summary>
    public long PeakBytes { get; private set; }

    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged => Track(Accelerator.Allocate1D<T>(length));

    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(T[] data) where T : unmanaged => Track(Accelerator.Allocate1D(data));

    MemoryBuffer1D<T, Stride1D.Dense> Track<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        lock (live)
        {
            live.RemoveAll(b => b.IsDisposed);
            live.Add(buffer);
            PeakBytes = Math.Max(PeakBytes, live.Sum(b => b.LengthInBytes));
        }
        return buffer;
    }
}
