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
