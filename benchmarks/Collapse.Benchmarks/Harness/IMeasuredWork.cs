namespace Collapse.Benchmarks.Harness;

/// <summary>
/// A benchmark class that knows how much work one operation does, from its parameters alone (no
/// setup): the throughput and share-of-limit columns divide it by the measured mean.
/// </summary>
public interface IMeasuredWork
{
    Work WorkPerOperation { get; }
}

/// <summary>The question a benchmark class answers, printed at the top of its exported results.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class BenchmarkQuestionAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>
/// A benchmark class that can count the kernel launches and host↔device copies of one operation (it sets
/// itself up with its parameters, runs one operation after a warm-up one, and cleans up): the launches
/// column reports them, since a GPU pays per launch and per blocking copy what a CPU hides.
/// </summary>
public interface IMeasuredLaunches
{
    Collapse.Kernels.Accelerators.LaunchCounts LaunchesPerOperation();
}
