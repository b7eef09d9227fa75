namespace Collapse.Tests.Random;

public class RandomKernelTests
{
    static RandomKernels Kernels(string device) => TestDevices.GaussianKernels(device, Kernels_.Path).Random;

    // Any GaussianKernels instance owns a RandomKernels; the ILGPU path exists on every device.
    static class Kernels_ { public const Collapse.Kernels.Accelerators.KernelPath Path = Collapse.Kernels.Accelerators.KernelPath.Ilgpu; }

    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void Normal_kernel_is_the_scalar_definition_for_every_replicate(string device)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var stream = new RandomStream(5, 0, 7, 2);
        const int replicates = 3, count = 1001;
        using var buffer = accelerator.Allocate1D<float>(replicates * count);
        Kernels(device).Normals(stream, 10, replicates, count, buffer.View);
        var values = buffer.GetAsArray1D();
        for (var r = 0; r < replicates; r++)
            for (var i = 0; i < count; i++)
            {
                var expected = Philox.Normal(stream.ForReplicate((uint)(10 + r)), (ulong)i);
                // The CPU accelerator runs the same IL: identical bits. A GPU may round its square root differently.
                if (device == "cpu") Assert.Equal(expected, values[r * count + i]);
                else Assert.True(Math.Abs(values[r * count + i] - expected) <= 1e-6f * Math.Max(1, Math.Abs(expected)),
                    $"replicate {r} index {i}: {values[r * count + i]} vs {expected}");
            }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void Batching_replicates_differently_gives_identical_numbers(string device)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var stream = new RandomStream(2, 0, 3, 1);
        const int count = 517;
        using var all = accelerator.Allocate1D<float>(4 * count);
        Kernels(device).Normals(stream, 0, 4, count, all.View);
        using var one = accelerator.Allocate1D<float>(count);
        var together = all.GetAsArray1D();
        for (var r = 0; r < 4; r++)
        {
            Kernels(device).Normals(stream, r, 1, count, one.View);
            Assert.Equal(together.AsSpan(r * count, count).ToArray(), one.GetAsArray1D());
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void Uniform_and_integer_kernels_match_the_scalar_definition(string device)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        var stream = new RandomStream(8, 0, 1, 3);
        using var uniforms = accelerator.Allocate1D<float>(2 * 99);
        using var integers = accelerator.Allocate1D<int>(2 * 99);
        Kernels(device).Uniforms(stream, 4, 2, 99, uniforms.View);
        Kernels(device).Integers(stream, 4, 2, 99, 13, integers.View);
        var u = uniforms.GetAsArray1D();
        var k = integers.GetAsArray1D();
        for (var r = 0; r < 2; r++)
            for (var i = 0; i < 99; i++)
            {
                Assert.Equal(Philox.UniformAt(stream.ForReplicate((uint)(4 + r)), (ulong)i), u[r * 99 + i]);
                Assert.Equal((int)Philox.UniformIntAt(stream.ForReplicate((uint)(4 + r)), (ulong)i, 13), k[r * 99 + i]);
            }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void Sampling_without_replacement_gives_distinct_uniformly_chosen_items(string device)
    {
        var accelerator = TestDevices.Get(device).Accelerator;
        const int population = 20, count = 7, replicates = 3000;
        using var output = accelerator.Allocate1D<int>(replicates * count);
        using var workspace = accelerator.Allocate1D<int>(replicates * RandomKernels.WorkspaceSize(count));
        Kernels(device).WithoutReplacement(new RandomStream(4, 0, 2, 3), 0, replicates, population, count, output.View, workspace.View);
        var chosen = output.GetAsArray1D();
        var counts = new long[population];
        for (var r = 0; r < replicates; r++)
        {
            var subset = chosen.AsSpan(r * count, count).ToArray();
            Assert.Equal(count, subset.Distinct().Count());
            Assert.All(subset, i => Assert.InRange(i, 0, population - 1));
            foreach (var i in subset) counts[i]++;
        }
        // Each item is in the subset with probability count/population.
        var expected = Enumerable.Repeat(replicates * count / (double)population, population).ToArray();
        var chi = Statistics.ChiSquare(counts, expected);
        Assert.True(chi < Statistics.ChiSquareBound(population - 1), $"chi-square {chi}");
    }

    [Fact]
    public void Taking_the_whole_population_is_a_permutation()
    {
        var accelerator = TestDevices.Get("cpu").Accelerator;
        using var output = accelerator.Allocate1D<int>(50);
        using var workspace = accelerator.Allocate1D<int>(RandomKernels.WorkspaceSize(50));
        Kernels("cpu").WithoutReplacement(new RandomStream(1, 0, 1, 3), 0, 1, 50, 50, output.View, workspace.View);
        Assert.Equal(Enumerable.Range(0, 50), output.GetAsArray1D().Order());
    }
}
