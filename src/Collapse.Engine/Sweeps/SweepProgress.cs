namespace Collapse.Engine.Sweeps;

/// <summary>Progress of a sweep in replicate-iterations (one replicate's fit at one iteration).</summary>
public readonly record struct SweepProgress(long Done, long Total, int CellsDone, int CellsTotal, string Current);
