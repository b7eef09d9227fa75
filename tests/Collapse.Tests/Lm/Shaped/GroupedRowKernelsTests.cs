using System.Reflection;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Collapse.Tests.Accelerators;

namespace Collapse.Tests.Lm.Shaped;

/// <summary>
/// The GPU-shaped row kernels (Lm/Shaped: one grouped launch each where the plain path takes two or
/// three) against (a) float64 references written here and (b) the plain kernels they replace,
/// launched through <see cref="LmKernels"/> on the ILGPU path, on seeded random data. Devices: every
/// one <see cref="TestDevices"/> generates (the CPU accelerator, PoCL's OpenCL inside the PoCL root),
/// and the CPU accelerator shaped like a GPU multiprocessor (warps of 32, groups of 256: the group
/// and team sizes CUDA runs). The LayerNorm and cross-entropy run with each team (solo, shared
/// memory; the warp-shuffle team on the CPU accelerators, PoCL cannot compile shuffles) in several
/// group sizes, the configs' defaults among them.
/// </summary>
/// <remarks>
/// Tolerances, relative as in <see cref="LmTestKit.Close"/> (|Δ| ≤ tol·(1 + |expected|)) or to the
/// tensor's largest value (<see cref="LmTestKit.CloseToScale"/>):
/// against the float64 references 1e-5 (LayerNorm dinput), 2e-5 (parameter and attention gradients),
/// 1e-5 (losses), 1e-6 (dlogits, to scale), 1e-5 relative (loss sums), 1e-6 (embedding gradients);
/// against the plain kernels: attention and embedding gradients bit for bit (the same operations in
/// the same order); LayerNorm dinput 1e-6 and its parameter gradients 1e-6 to scale, losses 1e-6,
/// dlogits 1e-6 to scale, loss sums 1e-6 relative (only the summation order differs), and bit for
/// bit with the solo team (one lane per row sums in the plain order); counts and scales exactly.
/// Observed (CPU and PoCL): dinput ≤ 2.2e-7, losses ≤ 2.9e-7, dlogits ≤ 6e-9 relative, loss sums ≤ 1.3e-8,
/// parameter gradients equal.
/// </remarks>
public class GroupedRowKernelsTests(ITestOutputHelper output)
{
    const int Heads = 4, Vocab = 27;

    /// <summary>The CPU accelerator shaped like a GPU: warps of 32, groups up to 256 threads.</summary>
    const string GpuShaped = "cpu-gpu-shaped";

    static readonly Lazy<ComputeDevice> GpuShapedDevice = new(() => AcceleratorCatalog.OpenGpuShapedCpu(warpsPerGroup: 8));

    static Accelerator Device(string name) => name == GpuShaped ? GpuShapedDevice.Value.Accelerator : TestDevices.Get(name).Accelerator;

    /// <summary>The plain kernels compared with: on the same accelerator (the GPU-shaped CPU's on the plain CPU accelerator).</summary>
    static LmKernels Plain(string name) => LmTestKit.Kernels(name == GpuShaped ? "cpu" : name, LmVersion.Plain);

    static readonly (int R, int B, int T, int C)[] Shapes = [(1, 4, 16, 32), (3, 3, 7, 64), (3, 2, 16, 64)];

    /// <summary>
    /// (team, group size) per device, 0 for the config's default: on the CPU accelerator its defaults (solo, 1), a solo
    /// and a shared-memory team in its largest groups (16), the warp team in warps (4) and in groups of 16; on OpenCL its
    /// defaults (solo, 16), a GPU's shared-memory team in groups of 256, the same in groups of 4 (PoCL's smallest size that
    /// runs the LayerNorm) and solo lanes in groups of 256; on the GPU-shaped CPU a GPU's shared-memory and warp teams in
    /// groups of 256. Kernels without teams take each distinct group size.
    /// </summary>
    static IEnumerable<(RowTeam Team, int GroupSize)> Variants(string device) => device switch
    {
        "cpu" => [(RowTeam.Solo, 0), (RowTeam.Solo, 16), (RowTeam.Shared, 16), (RowTeam.Warp, 4), (RowTeam.Warp, 16)],
        GpuShaped => [(RowTeam.Shared, 256), (RowTeam.Warp, 256)],
        _ => [(RowTeam.Solo, 0), (RowTeam.Shared, 256), (RowTeam.Shared, 4), (RowTeam.Solo, 256)],
    };

    static IEnumerable<int> GroupSizes(string device) => Variants(device).Select(v => v.GroupSize).Distinct();

    static List<string> Devices()
    {
        var present = TestDevices.PathList().Select(p => p.Device).Distinct().ToList();
        if (present.Contains("cpu")) present.Add(GpuShaped);
        return present;
    }

    /// <summary>(device, team, group size, R, B, T, C) for the LayerNorm and the cross-entropy; the GPU-shaped CPU one shape.</summary>
    public static TheoryData<string, RowTeam, int, int, int, int, int> RowCases()
    {
        var data = new TheoryData<string, RowTeam, int, int, int, int, int>();
        foreach (var device in Devices())
            foreach (var (team, size) in Variants(device))
                foreach (var (r, b, t, c) in device == GpuShaped ? Shapes[^1..] : Shapes)
                    data.Add(device, team, size, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    /// <summary>(device, group size, R, B, T, C): the row shapes, T = <see cref="GroupedAttentionKernels.MaxTime"/> and a T past it (global scratch).</summary>
    public static TheoryData<string, int, int, int, int, int> AttentionCases()
    {
        var data = new TheoryData<string, int, int, int, int, int>();
        foreach (var device in Devices())
            foreach (var size in GroupSizes(device))
                foreach (var (r, b, t, c) in device == GpuShaped
                             ? [Shapes[^1], (1, 2, GroupedAttentionKernels.MaxTime + 3, 32)]
                             : Shapes.Append((1, 1, GroupedAttentionKernels.MaxTime, 32)).Append((2, 1, GroupedAttentionKernels.MaxTime + 6, 32)))
                    data.Add(device, size, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    /// <summary>(device, group size, R, B, T, C) for the embedding.</summary>
    public static TheoryData<string, int, int, int, int, int> EmbeddingCases()
    {
        var data = new TheoryData<string, int, int, int, int, int>();
        foreach (var device in Devices())
            foreach (var size in GroupSizes(device))
                foreach (var (r, b, t, c) in device == GpuShaped ? Shapes[^1..] : Shapes)
                    data.Add(device, size, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    static readonly Dictionary<(Accelerator, string), Delegate> Loaded = [];

    static T Kernel<T>(Accelerator accelerator, string name, Func<T> load) where T : Delegate
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue((accelerator, name), out var kernel)) Loaded[(accelerator, name)] = kernel = load();
            return (T)kernel;
        }
    }

    static float[] Read(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        buffer.Accelerator.Synchronize();
        return buffer.GetAsArray1D();
    }

    /// <summary>Largest |a − e|/(1 + |e|), and how many elements differ in any bit.</summary>
    static (double Worst, int Unequal) Compare(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var (worst, unequal) = (0.0, 0);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])) unequal++;
            var e = Math.Abs((double)actual[i] - expected[i]) / (1 + Math.Abs((double)expected[i]));
            if (!(e <= worst)) worst = double.IsNaN(e) ? double.PositiveInfinity : e;
        }
        return (worst, unequal);
    }

    /// <summary>
    /// |actual − expected| ≤ tolerance·(1 + |expected|) everywhere, naming the worst index when not
    /// (LmTestKit.Close's rule; its message indexes −1 when every element is exact, as an all-ignored replicate's losses are).
    /// </summary>
    static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var (worst, worstExcess) = (0, 0.0);
        for (var i = 0; i < expected.Length; i++)
        {
            var excess = Math.Abs(actual[i] - expected[i]) / (1 + Math.Abs(expected[i]));
            if (!(excess <= worstExcess)) (worst, worstExcess) = (i, double.IsNaN(excess) ? double.PositiveInfinity : excess);
        }
        if (!(worstExcess <= tolerance))
            Assert.Fail($"{what}: index {worst} is {actual[worst]}, expected {expected[worst]} (relative error {worstExcess:g3} > {tolerance:g3})");
    }

    static void Bitwise(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: index {i} is {actual[i]:R}, the plain kernel's {expected[i]:R}");
    }

    void Report(string what, float[] plain, float[] grouped, double tolerance)
    {
        var (worst, unequal) = Compare(plain, grouped);
        output.WriteLine($"{what}: worst relative difference from the plain kernel {worst:g3} (tolerance {tolerance:g3}), {unequal} of {plain.Length} not bitwise equal");
        Assert.True(worst <= tolerance, $"{what}: {worst:g3} from the plain kernel (> {tolerance:g3})");
    }

    // ------------------------------------------------------------------ layer norm

    [Theory]
    [MemberData(nameof(RowCases))]
    public void LayerNorm_backward_matches_the_reference_and_the_plain_kernels(string device, RowTeam team, int groupSize, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var kernel = Kernel(accelerator, $"layernorm {team}", () => GroupedLayerNormKernels.Load(accelerator, team));
        // One lane per row sums a row as the plain kernel does; the parameters' double sums differ in order (slices, then a tree).
        AssertLayerNormBackward(device, R, B, T, C, args => kernel(GroupedLayerNormKernels.BackwardConfig(accelerator, args, groupSize), args),
            bitwiseDinput: team == RowTeam.Solo, bitwiseGradients: false);
    }

    /// <summary>(device, R, B, T, C) for the blocked LayerNorm backward: widths off its 8-column blocks too (4, 12, 20).</summary>
    public static TheoryData<string, int, int, int, int> BlockedLayerNormCases()
    {
        var data = new TheoryData<string, int, int, int, int>();
        foreach (var device in Devices().Where(d => d != GpuShaped))
            foreach (var (r, b, t, c) in Shapes.Concat([(2, 3, 5, 12), (1, 1, 1, 4), (3, 2, 9, 20)]))
                data.Add(device, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    /// <summary><see cref="BlockedLayerNormKernels"/> (the shaped version's on CPU devices), loaded and launched as LmKernels does: the plain bits.</summary>
    [Theory]
    [MemberData(nameof(BlockedLayerNormCases))]
    public void Blocked_layernorm_backward_matches_the_reference_and_the_plain_kernels_bit_for_bit(string device, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var size = BlockedMatMulKernels.GroupSize(accelerator);
        var kernel = Kernel(accelerator, "blocked layernorm", () => size > 0
            ? accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, LayerNormBackwardArgs, int>(BlockedLayerNormKernels.Backward, size).Serialized(accelerator)
            : accelerator.LoadAutoGroupedStreamKernel<Index1D, LayerNormBackwardArgs, int>(BlockedLayerNormKernels.Backward).Serialized(accelerator));
        AssertLayerNormBackward(device, R, B, T, C, args =>
        {
            var threads = Collapse.Kernels.Accelerators.LaunchSize.For(accelerator, BlockedLayerNormKernels.Items(args));
            kernel(threads, args, threads);
        }, bitwiseDinput: true, bitwiseGradients: true);
    }

    /// <summary><paramref name="launch"/> (a LayerNorm backward) against the plain kernels (bit for bit where asked) and float64.</summary>
    void AssertLayerNormBackward(string device, int R, int B, int T, int C, Action<LayerNormBackwardArgs> launch, bool bitwiseDinput, bool bitwiseGradients)
    {
        var accelerator = Device(device);
        var N = B * T;
        long P = 3 + 2 * C + 5, weight = 3, bias = 3 + C;
        // Rows far from zero (mean 3), as in LmKernelTests.
        var input = LmTestKit.Uniforms(1, R * N * C).Select(x => x + 3.0f).ToArray();
        var parameters = LmTestKit.Uniforms(2, R * P);
        var dout = LmTestKit.Uniforms(3, R * N * C);
        var dinputStart = LmTestKit.Uniforms(4, R * N * C);
        var (mean, rstd) = (new float[R * N], new float[R * N]);
        for (var row = 0; row < R * N; row++)
        {
            var xs = input.AsSpan(row * C, C).ToArray().Select(v => (double)v).ToArray();
            var m = xs.Average();
            mean[row] = (float)m;
            rstd[row] = (float)(1 / Math.Sqrt(xs.Select(v => (v - m) * (v - m)).Average() + LayerNormKernels.Epsilon));
        }

        float[] dinput, gradients;
        {
            using var x = accelerator.Allocate1D(input);
            using var p = accelerator.Allocate1D(parameters);
            using var m = accelerator.Allocate1D(mean);
            using var s = accelerator.Allocate1D(rstd);
            using var dy = accelerator.Allocate1D(dout);
            using var dx = accelerator.Allocate1D(dinputStart);
            using var g = accelerator.Allocate1D<float>(R * P);
            g.MemSet(77); // overwritten where the weight and bias are, untouched elsewhere
            var args = new LayerNormBackwardArgs
            {
                Dout = dy.View, Input = x.View, Parameters = p.View, Mean = m.View, Rstd = s.View, Dinput = dx.View, Gradients = g.View,
                ParameterCount = P, Weight = weight, Bias = bias, RowsPerReplicate = N, Replicates = R, Width = C,
            };
            launch(args);
            (dinput, gradients) = (Read(dx), Read(g));
        }

        float[] plainDinput, plainGradients;
        {
            var kernels = Plain(device);
            var a = kernels.Accelerator;
            using var x = a.Allocate1D(input);
            using var p = a.Allocate1D(parameters);
            using var m = a.Allocate1D(mean);
            using var s = a.Allocate1D(rstd);
            using var dy = a.Allocate1D(dout);
            using var dx = a.Allocate1D(dinputStart);
            using var g = a.Allocate1D<float>(R * P);
            g.MemSet(77);
            kernels.LayerNormBackward(dy.View, x.View, new ReplicatedParameters(p.View, P), weight, bias, m.View, s.View, dx.View,
                new ReplicatedParameters(g.View, P), R, N, C);
            (plainDinput, plainGradients) = (Read(dx), Read(g));
        }
        Report("dinput", plainDinput, dinput, 1e-6);
        if (bitwiseDinput) Bitwise(plainDinput, dinput, "dinput (the plain kernel's sums)");
        if (bitwiseGradients) Bitwise(plainGradients, gradients, "dweight, dbias (the plain kernel's sums)");
        var (worstParameters, unequal) = Compare(plainGradients, gradients);
        output.WriteLine($"dweight, dbias: worst relative difference from the plain kernel {worstParameters:g3}, {unequal} of {gradients.Length} not bitwise equal");

        for (var r = 0; r < R; r++)
        {
            var (dxExpected, dw, db) = (new double[N * C], new double[C], new double[C]);
            for (var n = 0; n < N; n++)
            {
                var row = r * N + n;
                var (m, s) = ((double)mean[row], (double)rstd[row]);
                double meanG = 0, meanGXhat = 0;
                for (var c = 0; c < C; c++)
                {
                    var g = (double)dout[row * C + c] * parameters[r * P + weight + c];
                    meanG += g;
                    meanGXhat += g * (input[row * C + c] - m) * s;
                }
                (meanG, meanGXhat) = (meanG / C, meanGXhat / C);
                for (var c = 0; c < C; c++)
                {
                    var xhat = (input[row * C + c] - m) * s;
                    var g = (double)dout[row * C + c] * parameters[r * P + weight + c];
                    dxExpected[n * C + c] = dinputStart[row * C + c] + s * (g - meanG - xhat * meanGXhat);
                    dw[c] += dout[row * C + c] * xhat;
                    db[c] += dout[row * C + c];
                }
            }
            Close(dxExpected, dinput.AsSpan(r * N * C, N * C), 1e-5, $"replicate {r} dinput");
            LmTestKit.CloseToScale(dw, gradients.AsSpan((int)(r * P + weight), C), 2e-5, $"replicate {r} dweight");
            LmTestKit.CloseToScale(db, gradients.AsSpan((int)(r * P + bias), C), 2e-5, $"replicate {r} dbias");
            LmTestKit.CloseToScale(dw, plainGradients.AsSpan((int)(r * P + weight), C), 2e-5, $"replicate {r} plain dweight");
            LmTestKit.CloseToScale(LmTestKit.ToDouble(plainGradients.AsSpan((int)(r * P + weight), C)), gradients.AsSpan((int)(r * P + weight), C), 1e-6,
                $"replicate {r} dweight against the plain kernel");
            LmTestKit.CloseToScale(LmTestKit.ToDouble(plainGradients.AsSpan((int)(r * P + bias), C)), gradients.AsSpan((int)(r * P + bias), C), 1e-6,
                $"replicate {r} dbias against the plain kernel");
        }
        // Nothing outside the weight and bias was written.
        for (var i = 0; i < R * P; i++)
        {
            var within = i % P;
            if (within < weight || within >= bias + C) Assert.Equal(BitConverter.Int32BitsToSingle(0x4D4D4D4D), gradients[i]); // MemSet(77)'s bytes
        }
    }

    // ------------------------------------------------------------------ cross-entropy

    /// <summary>Targets [R][N]: about 15% ignored, replicate 1 about half, replicate 2 of the T = 7 shape all of them.</summary>
    static int[] Targets(int R, int N, int T)
    {
        var random = new System.Random(17);
        var targets = new int[R * N];
        for (var r = 0; r < R; r++)
            for (var n = 0; n < N; n++)
            {
                var ignored = r == 2 && T == 7 || random.NextDouble() < (r == 1 ? 0.5 : 0.15) || n == 0;
                targets[r * N + n] = ignored ? CrossEntropyKernels.Ignore : random.Next(Vocab);
            }
        return targets;
    }

    [Theory]
    [MemberData(nameof(RowCases))]
    public void Cross_entropy_matches_the_reference_and_the_plain_kernels(string device, RowTeam team, int groupSize, int R, int B, int T, int C)
    {
        _ = C;
        var accelerator = Device(device);
        var N = B * T;
        var targets = Targets(R, N, T);
        var logits = LmTestKit.Uniforms(4, R * N * Vocab, 5.0f);
        var kernel = Kernel(accelerator, $"cross-entropy {team}", () => GroupedCrossEntropyKernels.Load(accelerator, team));

        foreach (var writeGradient in new[] { false, true })
        {
            float[] gradient, losses, scale;
            double[] sums;
            int[] counts;
            {
                using var l = accelerator.Allocate1D(logits);
                using var t = accelerator.Allocate1D(targets);
                using var c = accelerator.Allocate1D<int>(R);
                using var s = accelerator.Allocate1D<float>(R);
                using var loss = accelerator.Allocate1D<float>(R * N);
                using var sum = accelerator.Allocate1D<double>(R);
                c.MemSet(0x55);
                s.MemSet(0x55);
                loss.MemSet(0x55);
                sum.MemSet(0x55);
                var args = new CrossEntropyArgs
                {
                    Logits = l.View, Targets = t.View, Counts = c.View, Scale = s.View, Losses = loss.View, Sums = sum.View,
                    RowsPerReplicate = N, Vocab = Vocab, WriteGradient = writeGradient ? 1 : 0,
                };
                kernel(GroupedCrossEntropyKernels.ForwardBackwardConfig(accelerator, args, groupSize), args);
                (gradient, losses, scale) = (Read(l), Read(loss), Read(s));
                (sums, counts) = (sum.GetAsArray1D(), c.GetAsArray1D());
            }

            float[] plainGradient, plainLosses, plainScale;
            double[] plainSums;
            int[] plainCounts;
            {
                var kernels = Plain(device);
                var a = kernels.Accelerator;
                using var l = a.Allocate1D(logits);
                using var t = a.Allocate1D(targets);
                using var c = a.Allocate1D<int>(R);
                using var s = a.Allocate1D<float>(R);
                using var loss = a.Allocate1D<float>(R * N);
                using var sum = a.Allocate1D<double>(R);
                kernels.CountTargets(t.View, c.View, s.View, N);
                kernels.CrossEntropy(l.View, t.View, s.View, loss.View, N, Vocab, writeGradient);
                kernels.SumLosses(loss.View, sum.View, N);
                (plainGradient, plainLosses, plainScale) = (Read(l), Read(loss), Read(s));
                (plainSums, plainCounts) = (sum.GetAsArray1D(), c.GetAsArray1D());
            }
            Assert.Equal(plainCounts, counts);
            Bitwise(plainScale, scale, "scale");
            Report($"losses (gradient {writeGradient})", plainLosses, losses, 1e-6);
            if (team == RowTeam.Solo)
            {
                // One lane per row: the plain kernel's sums, so its bits.
                Bitwise(plainLosses, losses, "losses");
                Bitwise(plainGradient, gradient, "dlogits");
            }
            if (writeGradient)
            {
                Report("dlogits", plainGradient, gradient, 1e-6);
                LmTestKit.CloseToScale(LmTestKit.ToDouble(plainGradient), gradient, 1e-6, "dlogits against the plain kernel");
            }
            else Bitwise(logits, gradient, "logits without writeGradient");
            for (var r = 0; r < R; r++)
            {
                var (expectedSum, expectedCount) = (0.0, 0);
                var expectedLosses = new double[N];
                var expectedGradient = new double[N * Vocab];
                for (var n = 0; n < N; n++) if (targets[r * N + n] != CrossEntropyKernels.Ignore) expectedCount++;
                for (var n = 0; n < N; n++)
                {
                    var row = r * N + n;
                    var target = targets[row];
                    var max = double.NegativeInfinity;
                    for (var v = 0; v < Vocab; v++) max = Math.Max(max, logits[row * Vocab + v]);
                    var z = 0.0;
                    for (var v = 0; v < Vocab; v++) z += Math.Exp(logits[row * Vocab + v] - max);
                    if (target == CrossEntropyKernels.Ignore) continue;
                    expectedLosses[n] = Math.Log(z) + max - logits[row * Vocab + target];
                    expectedSum += expectedLosses[n];
                    for (var v = 0; v < Vocab; v++)
                        expectedGradient[n * Vocab + v] = (Math.Exp(logits[row * Vocab + v] - max) / z - (v == target ? 1 : 0)) / expectedCount;
                }
                Assert.Equal(expectedCount, counts[r]);
                Assert.Equal(expectedCount > 0 ? (float)(1.0 / expectedCount) : 0.0f, scale[r]);
                Close(expectedLosses, losses.AsSpan(r * N, N), 1e-5, $"replicate {r} losses");
                Assert.True(Math.Abs(sums[r] - expectedSum) <= 1e-5 * Math.Max(1, expectedSum), $"replicate {r} loss sum {sums[r]}, expected {expectedSum}");
                Assert.True(Math.Abs(sums[r] - plainSums[r]) <= 1e-6 * Math.Max(1, Math.Abs(plainSums[r])), $"replicate {r} loss sum {sums[r]}, the plain kernels' {plainSums[r]}");
                if (writeGradient)
                    LmTestKit.CloseToScale(expectedGradient, gradient.AsSpan(r * N * Vocab, N * Vocab), 1e-6, $"replicate {r} dlogits");
            }
            output.WriteLine($"loss sums: worst relative difference from the plain kernels {Enumerable.Range(0, R).Max(r => Math.Abs(sums[r] - plainSums[r]) / Math.Max(1, Math.Abs(plainSums[r]))):g3}");
        }
    }

    // ------------------------------------------------------------------ attention

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void Attention_backward_matches_the_reference_and_the_plain_kernels_bit_for_bit(string device, int groupSize, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var kernel = Kernel(accelerator, "attention", () => GroupedAttentionKernels.Load(accelerator));
        // The softmax gradient in global scratch only past MaxTime (below it in shared memory, the scratch empty).
        AssertAttentionBackward(device, R, B, T, C, T > GroupedAttentionKernels.MaxTime,
            args => kernel(GroupedAttentionKernels.BackwardConfig(accelerator, args, groupSize), args));
    }

    /// <summary>(device, R, B, T, C) for the blocked attention backward: head sizes off its 8-channel blocks too (5, 12), T = 1 and past 64.</summary>
    public static TheoryData<string, int, int, int, int> BlockedAttentionCases()
    {
        var data = new TheoryData<string, int, int, int, int>();
        foreach (var device in Devices().Where(d => d != GpuShaped))
            foreach (var (r, b, t, c) in Shapes.Concat([(2, 3, 5, 20), (1, 2, 1, 48), (2, 1, GroupedAttentionKernels.MaxTime + 6, 48)]))
                data.Add(device, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    /// <summary><see cref="BlockedAttentionKernels"/> (the shaped version's on CPU devices), loaded and launched as LmKernels does.</summary>
    [Theory]
    [MemberData(nameof(BlockedAttentionCases))]
    public void Blocked_attention_backward_matches_the_reference_and_the_plain_kernels_bit_for_bit(string device, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var size = BlockedMatMulKernels.GroupSize(accelerator);
        var kernel = Kernel(accelerator, "blocked attention", () => size > 0
            ? accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, AttentionBackwardArgs, int>(BlockedAttentionKernels.Backward, size).Serialized(accelerator)
            : accelerator.LoadAutoGroupedStreamKernel<Index1D, AttentionBackwardArgs, int>(BlockedAttentionKernels.Backward).Serialized(accelerator));
        AssertAttentionBackward(device, R, B, T, C, true, args =>
        {
            var threads = Collapse.Kernels.Accelerators.LaunchSize.For(accelerator, BlockedAttentionKernels.Items(args));
            kernel(threads, args, threads);
        });
    }

    /// <summary>
    /// <paramref name="launch"/> (an attention backward, with Dpre scratch shaped like att when <paramref name="scratch"/>)
    /// against the plain kernels bit for bit and against float64.
    /// </summary>
    void AssertAttentionBackward(string device, int R, int B, int T, int C, bool scratch, Action<AttentionBackwardArgs> launch)
    {
        var accelerator = Device(device);
        var sequences = R * B;
        var hs = C / Heads;
        var qkv = LmTestKit.Uniforms(1, sequences * T * 3 * C, 2.0f);
        var dout = LmTestKit.Uniforms(2, sequences * T * C);
        var attLength = sequences * Heads * T * T;
        var kernels = Plain(device);

        // The softmax rows from the plain forward: the input of both backwards and of the reference.
        float[] att;
        {
            var a = kernels.Accelerator;
            using var q = a.Allocate1D(qkv);
            using var weights = a.Allocate1D<float>(attLength);
            using var y = a.Allocate1D<float>(sequences * T * C);
            kernels.AttentionForward(q.View, weights.View, y.View, T, C, Heads);
            att = Read(weights);
        }

        float[] dqkv;
        {
            using var q = accelerator.Allocate1D(qkv);
            using var weights = accelerator.Allocate1D(att);
            using var dy = accelerator.Allocate1D(dout);
            using var d = accelerator.Allocate1D<float>(sequences * T * 3 * C);
            using var dpre = accelerator.Allocate1D<float>(scratch ? attLength : 0);
            d.MemSet(77);
            var args = new AttentionBackwardArgs { Qkv = q.View, Att = weights.View, Dout = dy.View, Dqkv = d.View, Dpre = dpre.View, Time = T, Width = C, Heads = Heads };
            launch(args);
            dqkv = Read(d);
        }

        float[] plain;
        {
            var a = kernels.Accelerator;
            using var q = a.Allocate1D(qkv);
            using var weights = a.Allocate1D(att);
            using var dy = a.Allocate1D(dout);
            using var dpre = a.Allocate1D<float>(attLength);
            using var d = a.Allocate1D<float>(sequences * T * 3 * C);
            kernels.AttentionBackward(q.View, weights.View, dy.View, dpre.View, d.View, T, C, Heads);
            plain = Read(d);
        }
        Bitwise(plain, dqkv, "dqkv");

        var scale = 1 / Math.Sqrt(hs);
        var expected = new double[sequences * T * 3 * C];
        for (var s = 0; s < sequences; s++)
            for (var h = 0; h < Heads; h++)
            {
                double Q(int t, int i) => qkv[(s * T + t) * 3 * C + h * hs + i];
                double K(int t, int i) => qkv[(s * T + t) * 3 * C + C + h * hs + i];
                double V(int t, int i) => qkv[(s * T + t) * 3 * C + 2 * C + h * hs + i];
                double Dy(int t, int i) => dout[(s * T + t) * C + h * hs + i];
                double Att(int t, int t2) => att[((s * Heads + h) * T + t) * T + t2];
                var dpre = new double[T, T];
                for (var t = 0; t < T; t++)
                {
                    var datt = new double[t + 1];
                    for (var t2 = 0; t2 <= t; t2++)
                        for (var i = 0; i < hs; i++) datt[t2] += Dy(t, i) * V(t2, i);
                    var weighted = 0.0;
                    for (var t2 = 0; t2 <= t; t2++) weighted += Att(t, t2) * datt[t2];
                    for (var t2 = 0; t2 <= t; t2++) dpre[t, t2] = Att(t, t2) * (datt[t2] - weighted) * scale;
                }
                for (var t = 0; t < T; t++)
                    for (var i = 0; i < hs; i++)
                    {
                        double dq = 0, dk = 0, dv = 0;
                        for (var t2 = 0; t2 <= t; t2++) dq += dpre[t, t2] * K(t2, i);
                        for (var t1 = t; t1 < T; t1++)
                        {
                            dk += dpre[t1, t] * Q(t1, i);
                            dv += Att(t1, t) * Dy(t1, i);
                        }
                        var at = (s * T + t) * 3 * C + h * hs + i;
                        (expected[at], expected[at + C], expected[at + 2 * C]) = (dq, dk, dv);
                    }
            }
        LmTestKit.CloseToScale(expected, dqkv, 2e-5, "dqkv");
    }

    // ------------------------------------------------------------------ embedding

    [Theory]
    [MemberData(nameof(EmbeddingCases))]
    public void Encoder_backward_matches_the_reference_and_the_plain_kernels_bit_for_bit(string device, int groupSize, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var kernel = Kernel(accelerator, "embedding", () => GroupedEmbeddingKernels.Load(accelerator));
        AssertEncoderBackward(device, R, B, T, C, args => kernel(GroupedEmbeddingKernels.BackwardConfig(accelerator, args, groupSize), args));
    }

    /// <summary>(device, R, B, T, C) for the blocked embedding backward: widths off its 8-channel blocks too (4, 12, 20).</summary>
    public static TheoryData<string, int, int, int, int> BlockedEmbeddingCases()
    {
        var data = new TheoryData<string, int, int, int, int>();
        foreach (var device in Devices().Where(d => d != GpuShaped))
            foreach (var (r, b, t, c) in Shapes.Concat([(2, 3, 5, 12), (1, 2, 4, 4), (2, 2, 9, 20)]))
                data.Add(device, r, b, t, c);
        return TestDevices.Tagged(data);
    }

    /// <summary><see cref="BlockedEmbeddingKernels"/> (the shaped version's on CPU devices), loaded and launched as LmKernels does.</summary>
    [Theory]
    [MemberData(nameof(BlockedEmbeddingCases))]
    public void Blocked_encoder_backward_matches_the_reference_and_the_plain_kernels_bit_for_bit(string device, int R, int B, int T, int C)
    {
        var accelerator = Device(device);
        var size = BlockedMatMulKernels.GroupSize(accelerator);
        var kernel = Kernel(accelerator, "blocked embedding", () => size > 0
            ? accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, EncoderBackwardArgs, int>(BlockedEmbeddingKernels.Backward, size).Serialized(accelerator)
            : accelerator.LoadAutoGroupedStreamKernel<Index1D, EncoderBackwardArgs, int>(BlockedEmbeddingKernels.Backward).Serialized(accelerator));
        AssertEncoderBackward(device, R, B, T, C, args =>
        {
            var threads = Collapse.Kernels.Accelerators.LaunchSize.For(accelerator, BlockedEmbeddingKernels.Items(args));
            kernel(threads, args, threads);
        });
    }

    /// <summary><paramref name="launch"/> (an encoder backward) against the plain kernels bit for bit and against float64.</summary>
    void AssertEncoderBackward(string device, int R, int B, int T, int C, Action<EncoderBackwardArgs> launch)
    {
        var accelerator = Device(device);
        // A block longer than T (its later positions' gradients are 0) and token rows a whole block long.
        var layout = new GptLayout(new GptConfig(Vocab: Vocab, BlockSize: T + 3, Layers: 1, Width: C, Heads: Heads));
        var (blockSize, P) = (T + 3, layout.Count);
        var random = new System.Random(9);
        var tokens = Enumerable.Range(0, R * B * blockSize).Select(_ => random.Next(Vocab)).ToArray();
        var dout = LmTestKit.Uniforms(3, R * B * T * C);

        float[] gradients;
        {
            using var tk = accelerator.Allocate1D(tokens);
            using var dy = accelerator.Allocate1D(dout);
            using var g = accelerator.Allocate1D<float>(R * P);
            g.MemSet(77);
            var args = new EncoderBackwardArgs
            {
                Tokens = tk.View, Dout = dy.View, Gradients = g.View, TokenEmbedding = layout.TokenEmbedding, PositionEmbedding = layout.PositionEmbedding,
                ParameterCount = P, TokenStride = blockSize, Replicates = R, Vocab = Vocab, BlockSize = blockSize, Batch = B, Time = T, Width = C,
            };
            launch(args);
            gradients = Read(g);
        }

        float[] plain;
        {
            var kernels = Plain(device);
            var a = kernels.Accelerator;
            using var tk = a.Allocate1D(tokens);
            using var dy = a.Allocate1D(dout);
            using var g = a.Allocate1D<float>(R * P);
            g.MemSet(77);
            kernels.EncoderBackward(tk.View, blockSize, dy.View, new ReplicatedParameters(g.View, P), layout, R, B, T);
            plain = Read(g);
        }
        Bitwise(plain, gradients, "embedding gradients");

        for (var r = 0; r < R; r++)
        {
            var (dwte, dwpe) = (new double[Vocab * C], new double[blockSize * C]);
            for (var b = 0; b < B; b++)
                for (var t = 0; t < T; t++)
                {
                    var token = tokens[(r * B + b) * blockSize + t];
                    for (var c = 0; c < C; c++)
                    {
                        var d = dout[((r * B + b) * T + t) * C + c];
                        dwte[token * C + c] += d;
                        dwpe[t * C + c] += d;
                    }
                }
            Close(dwte, gradients.AsSpan((int)(r * P + layout.TokenEmbedding), Vocab * C), 1e-6, $"replicate {r} dwte");
            Close(dwpe, gradients.AsSpan((int)(r * P + layout.PositionEmbedding), blockSize * C), 1e-6, $"replicate {r} dwpe");
        }
    }

    // ------------------------------------------------------------------ configs

    [Fact]
    public void Configs_adapt_to_the_accelerator_and_refuse_bad_group_sizes()
    {
        var cpu = TestDevices.Get("cpu").Accelerator;
        using var floats = cpu.Allocate1D<float>(3 * 2 * 16 * 3 * 64);
        using var ints = cpu.Allocate1D<int>(3);
        const int R = 3, B = 2, T = 16, C = 64;
        var layerNorm = new LayerNormBackwardArgs { RowsPerReplicate = B * T, Replicates = R, Width = C };
        var crossEntropy = new CrossEntropyArgs { Counts = ints.View, RowsPerReplicate = B * T, Vocab = Vocab };
        var attention = new AttentionBackwardArgs { Dout = floats.View.SubView(0, R * B * T * C), Time = T, Width = C, Heads = Heads };
        var embedding = new EncoderBackwardArgs { Replicates = R, Vocab = Vocab, BlockSize = T, Batch = B, Time = T, Width = C, TokenStride = T };
        foreach (var (accelerator, team, size) in new[] { (cpu, RowTeam.Solo, 1) }
                     .Concat(TestDevices.PathList().Any(p => p.Device == "opencl") ? [(TestDevices.Get("opencl").Accelerator, RowTeam.Solo, 16)] : []))
        {
            Assert.Equal(team, GroupedRows.DefaultTeam(accelerator));
            var configs = new[]
            {
                GroupedLayerNormKernels.BackwardConfig(accelerator, layerNorm), GroupedCrossEntropyKernels.ForwardBackwardConfig(accelerator, crossEntropy),
                GroupedAttentionKernels.BackwardConfig(accelerator, attention), GroupedEmbeddingKernels.BackwardConfig(accelerator, embedding),
            };
            Assert.All(configs, c => Assert.Equal(size, c.GroupDim.X));
            Assert.True(configs[0].GridDim.X > GroupedLayerNormKernels.ParameterGroups(layerNorm), "no input groups");
            Assert.Equal(R, configs[1].GridDim.X);
            // One group per (sequence, head), on the CPU accelerator no more than its multiprocessors (they stride over the rest).
            Assert.Equal(accelerator == cpu ? Math.Min(R * B * Heads, cpu.NumMultiprocessors) : R * B * Heads, configs[2].GridDim.X);
        }
        Assert.Throws<ArgumentException>(() => GroupedLayerNormKernels.BackwardConfig(cpu, layerNorm, 12)); // not a power of two
        Assert.Throws<ArgumentException>(() => GroupedCrossEntropyKernels.ForwardBackwardConfig(cpu, crossEntropy, 2 * cpu.MaxNumThreadsPerGroup));
        // T past the shared-memory limit needs the global scratch.
        Assert.Throws<ArgumentException>(() => GroupedAttentionKernels.BackwardConfig(cpu, attention with { Time = GroupedAttentionKernels.MaxTime + 1, Att = floats.View }));
        Assert.Equal(256, GroupedLayerNormKernels.BackwardConfig(GpuShapedDevice.Value.Accelerator, layerNorm, 256).GroupDim.X);
    }

    // ------------------------------------------------------------------ GPU backends

    /// <summary>Every grouped kernel entry: (class.method, holds barriers, uses warp shuffles).</summary>
    static readonly (string Name, bool Barriers, bool Shuffles)[] Entries =
    [
        ("GroupedLayerNormKernels.Backward", true, false),
        ("GroupedLayerNormKernels.BackwardWarp", true, true),
        ("GroupedLayerNormKernels.BackwardSolo", true, false),
        ("GroupedCrossEntropyKernels.ForwardBackward", true, false),
        ("GroupedCrossEntropyKernels.ForwardBackwardWarp", true, true),
        ("GroupedCrossEntropyKernels.ForwardBackwardSolo", true, false),
        ("GroupedAttentionKernels.Backward", true, false),
        ("GroupedEmbeddingKernels.Backward", false, false),
    ];

    public static TheoryData<string> EntryNames() => new(Entries.Select(e => e.Name));

    public static TheoryData<string> PortableEntryNames() => new(Entries.Where(e => !e.Shuffles).Select(e => e.Name));

    static MethodInfo Find(string name)
    {
        var (type, method) = (name[..name.IndexOf('.')], name[(name.IndexOf('.') + 1)..]);
        return typeof(GroupedRows).Assembly.GetTypes().Single(t => t.Name == type).GetMethod(method, BindingFlags.Static | BindingFlags.Public)!;
    }

    [Theory]
    [MemberData(nameof(EntryNames))]
    public void Compiles_to_self_contained_ptx(string kernel)
    {
        var entry = Entries.Single(e => e.Name == kernel);
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null!);
        var ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(Find(kernel)), default)).PTXAssembly;
        Assert.Contains(".entry", ptx);
        if (entry.Barriers) Assert.Contains("bar.sync", ptx);
        if (entry.Shuffles) Assert.Contains("shfl.sync", ptx);
        var externs = ptx.Split('\n').Where(l => l.TrimStart().StartsWith(".extern .func", StringComparison.Ordinal)).ToList();
        Assert.True(externs.Count == 0, $"{kernel}'s PTX calls functions nothing defines:\n{string.Join('\n', externs)}");
        Assert.DoesNotContain("Hyperbolic", ptx);
    }

    /// <summary>
    /// The portable kernels as OpenCL C 2.0, built by clang-14 (the PoCL root has none; CI's PoCL run leaves out
    /// the tests named "…that_clang_builds", and there the opencl rows above compile and run the same source on PoCL's own compiler).
    /// </summary>
    [Theory]
    [MemberData(nameof(PortableEntryNames))]
    public void Portable_kernels_compile_to_opencl_c_that_clang_builds(string kernel)
    {
        var entry = Entries.Single(e => e.Name == kernel);
        using var context = Context.Create(builder => AcceleratorCatalog.CompilerSettings(builder));
        var capabilities = new CLCapabilityContext(true, true, true, true, true);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        var source = ((CLCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(Find(kernel)), default)).Source;
        Assert.Contains("kernel", source);
        if (entry.Barriers) Assert.Contains("barrier", source);
        OpenClCompiler.AssertBuilds(kernel, source);
    }
}
