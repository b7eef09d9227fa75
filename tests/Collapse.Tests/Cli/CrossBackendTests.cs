using System.Globalization;

namespace Collapse.Tests.Cli;

/// <summary>
/// The same run on two backends agrees. Every accelerator present is compared with ILGPU's CPU
/// backend (<c>--accelerator cpu --kernels ilgpu</c>); the CPU row compares the production SIMD path
/// with it, so the test always has a row. What may differ, and by how much:
/// <list type="bullet">
/// <item>random streams: nothing. Philox is integer arithmetic and Box–Muller's multiply-adds are
/// fused on every backend (<c>KernelMath.Fma</c>), so normals are equal bit for bit;</item>
/// <item>fitted statistics and metrics: float64 sums taken in another order (tiles, SIMD lanes, GPU
/// reductions) and multiply-adds a device compiler contracts (OpenCL C allows it) each move a result by
/// a few ulps, n·ε ≈ 1e-13 relative for n ≤ 1,000 points; five generations feed each fit's rounding into
/// the next, and the condition of these small fits (d ≤ 10, n ≥ 10) amplifies it at most ~10³. Measured
/// between the SIMD and ILGPU CPU paths: at most 1.1e-12 relative. The bound, 1e-8 relative (absolute
/// below 1), leaves a factor of 10⁴ and still fails on any real difference in the arithmetic.</item>
/// </list>
/// </summary>
public class CrossBackendTests
{
    const double Tolerance = 1e-8;

    public static TheoryData<string> Backends() => TestDevices.Present();

    static (string[] Accelerator, string[] Reference) Sides(string backend) => backend == "cpu"
        ? (["--accelerator", "cpu", "--kernels", "auto"], ["--accelerator", "cpu", "--kernels", "ilgpu"])
        : (["--accelerator", backend], ["--accelerator", "cpu", "--kernels", "ilgpu"]);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Normals_are_the_same_bits_on_every_backend(string backend)
    {
        var accelerator = TestDevices.Get(backend).Accelerator;
        var kernels = new RandomKernels(accelerator);
        const int replicates = 3, count = 4_099;
        using var buffer = accelerator.Allocate1D<float>(replicates * count);
        var stream = new RandomStream(5, 0, 3, 1);
        kernels.Normals(stream, 0, replicates, count, buffer.View);
        accelerator.Synchronize();
        var drawn = buffer.GetAsArray1D();
        for (var r = 0; r < replicates; r++)
            for (var i = 0; i < count; i++)
                Assert.Equal(Philox.Normal(stream.ForReplicate((uint)r), (ulong)i), drawn[r * count + i]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_gaussian_sweep_agrees_with_the_cpu_kernels(string backend) =>
        AssertAgree(backend, "gaussian", ["setting", "dim", "n", "seed", "iteration"],
            ["run", "gaussian", "--dims", "3,10", "--samples", "10,100", "--seeds", "4", "--iterations", "5", "--no-figures"]);

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_kde_sweep_agrees_with_the_cpu_kernels(string backend) =>
        AssertAgree(backend, "kde", ["dataset", "bandwidth", "setting", "n", "seed", "iteration"],
            ["run", "kde", "--datasets", "moons,blobs", "--bandwidths", "0.1,0.5", "--samples", "32", "--seeds", "4",
             "--iterations", "3", "--test-size", "100", "--no-figures"]);

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_regression_sweep_agrees_with_the_cpu_kernels(string backend) =>
        // n = 5 < d = 12 takes the minimum-norm branch; n far from d keeps the designs well conditioned.
        AssertAgree(backend, "regression", ["setting", "dim", "n", "sigma_squared", "seed", "iteration"],
            ["run", "regression", "--dims", "2,12", "--samples", "5,40", "--sigma-squared", "0.5", "--seeds", "3", "--iterations", "5",
             "--test-size", "100", "--no-figures"]);

    static void AssertAgree(string backend, string name, string[] keys, string[] run)
    {
        var (accelerator, reference) = Sides(backend);
        var here = Csv(name, [.. run, .. accelerator], keys);
        var there = Csv(name, [.. run, .. reference], keys);
        Assert.Equal(there.Keys.Order(), here.Keys.Order());
        foreach (var (key, row) in here)
            foreach (var (column, value) in row)
            {
                var expected = there[key][column];
                if (!double.IsFinite(value) || !double.IsFinite(expected))
                {
                    // A singular fit's log det is −∞ and its det 0 exactly, on every backend alike.
                    Assert.True(value.Equals(expected), $"{name} {key} {column}: {value} against {expected}");
                    continue;
                }
                var scale = Math.Max(1, Math.Max(Math.Abs(value), Math.Abs(expected)));
                Assert.True(Math.Abs(value - expected) <= Tolerance * scale,
                    $"{name} {key} {column}: {value:R} on {string.Join(' ', accelerator)}, {expected:R} on {string.Join(' ', reference)}");
            }
    }

    static double Number(string cell) => cell switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.Parse(cell, CultureInfo.InvariantCulture),
    };

    /// <summary>The sweep's CSV: for each key (the non-metric columns joined), its metric columns.</summary>
    static Dictionary<string, Dictionary<string, double>> Csv(string name, string[] args, string[] keys)
    {
        var directory = CliRunner.TemporaryDirectory();
        var result = CliRunner.Run([.. args, "--out", directory]);
        Assert.True(result.ExitCode == 0, result.Out + result.Error);
        var lines = File.ReadAllLines(Path.Combine(directory, name + ".csv"));
        var header = lines[0].Split(',');
        var rows = new Dictionary<string, Dictionary<string, double>>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var key = string.Join(',', keys.Select(k => cells[Array.IndexOf(header, k)]));
            rows[key] = header.Select((h, i) => (h, i)).Where(c => !keys.Contains(c.h))
                .ToDictionary(c => c.h, c => Number(cells[c.i]));
        }
        return rows;
    }
}
