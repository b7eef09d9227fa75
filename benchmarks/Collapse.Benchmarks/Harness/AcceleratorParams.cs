using Collapse.Performance.Targets;

namespace Collapse.Benchmarks.Harness;

/// <summary>
/// The values of every benchmark's <c>Accelerator</c> parameter: the targets asked for
/// (<c>--targets</c>, default cpu, cuda, opencl) that are present here. Each absent one is printed
/// once with the reason and skipped, so a run on a machine without a GPU still succeeds.
/// </summary>
public static class AcceleratorParams
{
    /// <summary>Set by the program from <c>--targets</c> before any benchmark is built.</summary>
    public static IReadOnlyList<string> Requested { get; set; } = BenchmarkTarget.Default;

    static readonly Lazy<IReadOnlyList<string>> Available = new(() => BenchmarkTarget.Available(Requested, Console.Out));

    public static IEnumerable<string> Present() => Available.Value;
}
