namespace Collapse.Engine.Families.Regression;

/// <summary>
/// count labelled records per replicate on the device, [replicate][record]. Every record is a copy
/// of one row of the replicate's fixed design: record i of a generation is row i
/// (<see cref="RowOf"/> null); a subsample says which row each record copies.
/// </summary>
public sealed class LabelsBatch(MemoryBuffer1D<double, Stride1D.Dense> labels, int count, PointBuffers owner,
    MemoryBuffer1D<int, Stride1D.Dense>? rowOf = null) : IDataBatch
{
    public MemoryBuffer1D<double, Stride1D.Dense> Labels { get; } = labels;
    public int Count { get; } = count;

    /// <summary>The design row of each record, [replicate][record]; null when record i is row i.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense>? RowOf { get; } = rowOf;

    public void Dispose()
    {
        owner.Return(Labels);
        RowOf?.Dispose();
    }
}
