using BenchmarkDotNet.Running;

namespace Collapse.Benchmarks;

public static class Program
{
    /// <summary>BenchmarkDotNet's switcher: pick benchmark classes by name or with --filter.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
