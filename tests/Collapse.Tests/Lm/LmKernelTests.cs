using Collapse.Performance.Reference;

namespace Collapse.Tests.Lm;

/// <summary>
/// Every transformer kernel, forward and backward, against its float64 reference in
/// <see cref="ReferenceGptOps"/>, batched over replicates with different weights and data, on every
/// accelerator and kernel version. Weights sit at odd offsets inside an odd replicate stride, so an
/// indexing slip between replicates shows.
/// </summary>
public class LmKernelTests
{
    const float Tolerance = 2e-5f;

    static Accelerator Device(string device) => TestDevices.Get(device).Accelerator;

    static float[] Slice(float[] values, long start, long length) => values.AsSpan((int)start, (int)length).ToArray();

    static double[] SliceD(float[] values, long start, long length) => LmTestKit.ToDouble(values.AsSpan((int)start, (int)length));

    static float[] Read(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        buffer.Accelerator.Synchronize();
        return buffer.GetAsArray1D();
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Embedding_forward_and_backward(string device, LmVersion version)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        var config = LmTestKit.Small;
        var layout = new GptLayout(config);
        const int R = 2, B = 3, T = 4; // T below the block size: rows are read with the block's stride
        var (V, C, stride) = (config.Vocab, config.Width, config.BlockSize);
        var random = new System.Random(5);
        var tokens = Enumerable.Range(0, R * B * stride).Select(_ => random.Next(V)).ToArray();
        var parameters = LmTestKit.Uniforms(6, R * layout.Count);
        var dout = LmTestKit.Uniforms(7, R * B * T * C);
        using var tokenBuffer = accelerator.Allocate1D(tokens);
        using var p = accelerator.Allocate1D(parameters);
        using var output = accelerator.Allocate1D<float>(R * B * T * C);
        using var doutBuffer = accelerator.Allocate1D(dout);
        using var gradients = accelerator.Allocate1D<float>(R * layout.Count);
        gradients.MemSet(77); // backward must overwrite, whatever was there
        kernels.EncoderForward(tokenBuffer.View, stride, new ReplicatedParameters(p.View, layout.Count), layout, output.View, B, T);
        kernels.EncoderBackward(tokenBuffer.View, stride, doutBuffer.View, new ReplicatedParameters(gradients.View, layout.Count), layout, R, B, T);
        var (y, g) = (Read(output), Read(gradients));
        for (var r = 0; r < R; r++)
        {
            var compact = Enumerable.Range(0, B * T).Select(i => tokens[(r * B + i / T) * stride + i % T]).ToArray();
            var expected = new double[B * T * C];
            var w = SliceD(parameters, r * layout.Count, layout.Count);
            ReferenceGptOps.EncoderForward(expected, compact, w.AsSpan((int)layout.TokenEmbedding, V * C), w.AsSpan((int)layout.PositionEmbedding, stride * C), B, T, C);
            LmTestKit.Close(expected, Slice(y, r * B * T * C, B * T * C), Tolerance, $"replicate {r} embedding");
            var (dwte, dwpe) = (new double[V * C], new double[stride * C]);
            ReferenceGptOps.EncoderBackward(dwte, dwpe, SliceD(dout, r * B * T * C, B * T * C).ToArray(), compact, B, T, C);
            LmTestKit.CloseToScale(dwte, Slice(g, r * layout.Count + layout.TokenEmbedding, V * C), Tolerance, $"replicate {r} dwte");
            LmTestKit.CloseToScale(dwpe, Slice(g, r * layout.Count + layout.PositionEmbedding, stride * C), Tolerance, $"replicate {r} dwpe");
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void LayerNorm_forward_and_backward(string device, LmVersion version)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        const int R = 2, N = 5, C = 27; // not a multiple of 8: the CPU path's lane tail too
        const long P = 3 + 2 * C + 5, weight = 3, bias = 3 + C;
        // Rows far from zero (mean 3) check that the variance is taken around the mean.
        var input = LmTestKit.Uniforms(1, R * N * C).Select(x => x + 3.0f).ToArray();
        var parameters = LmTestKit.Uniforms(2, R * P);
        var dout = LmTestKit.Uniforms(3, R * N * C);
        var dinputStart = LmTestKit.Uniforms(4, R * N * C);
        using var x = accelerator.Allocate1D(input);
        using var p = accelerator.Allocate1D(parameters);
        using var y = accelerator.Allocate1D<float>(R * N * C);
        using var mean = accelerator.Allocate1D<float>(R * N);
        using var rstd = accelerator.Allocate1D<float>(R * N);
        using var dy = accelerator.Allocate1D(dout);
        using var dx = accelerator.Allocate1D(dinputStart);
        using var g = accelerator.Allocate1D<float>(R * P);
        kernels.LayerNormForward(x.View, new ReplicatedParameters(p.View, P), weight, bias, y.View, mean.View, rstd.View, N, C);
        kernels.LayerNormBackward(dy.View, x.View, new ReplicatedParameters(p.View, P), weight, bias, mean.View, rstd.View, dx.View,
            new ReplicatedParameters(g.View, P), R, N, C);
        var (output, dinput, gradients) = (Read(y), Read(dx), Read(g));
        for (var r = 0; r < R; r++)
        {
            var w = SliceD(parameters, r * P, P);
            var xr = SliceD(input, r * N * C, N * C);
            var (expected, m, s) = (new double[N * C], new double[N], new double[N]);
            ReferenceGptOps.LayerNormForward(expected, m, s, xr, w.AsSpan((int)weight, C), w.AsSpan((int)bias, C), N, C);
            LmTestKit.Close(expected, Slice(output, r * N * C, N * C), 1e-5, $"replicate {r} output");
            var dxExpected = SliceD(dinputStart, r * N * C, N * C); // backward adds to what is there
            var (dw, db) = (new double[C], new double[C]);
            ReferenceGptOps.LayerNormBackward(dxExpected, dw, db, SliceD(dout, r * N * C, N * C), xr, w.AsSpan((int)weight, C), m, s, N, C);
            LmTestKit.Close(dxExpected, Slice(dinput, r * N * C, N * C), 1e-5, $"replicate {r} dinput");
            LmTestKit.CloseToScale(dw, Slice(gradients, r * P + weight, C), Tolerance, $"replicate {r} dweight");
            LmTestKit.CloseToScale(db, Slice(gradients, r * P + bias, C), Tolerance, $"replicate {r} dbias");
        }
    }

    public static TheoryData<string, LmVersion, int, int, int, bool> MatMulCases()
    {
        var data = new TheoryData<string, LmVersion, int, int, int, bool>();
        foreach (var (device, version) in TestDevices.LmVersionList())
            // Shapes off every SIMD tile (4 rows, 16 and 8 columns) and the model's own (C → 3C, 4C → C, C → V).
            foreach (var (n, c, oc, bias) in new[] { (13, 20, 27, true), (13, 20, 27, false), (37, 64, 192, true), (8, 256, 64, true), (3, 5, 9, true) })
                data.Add(device, version, n, c, oc, bias);
        return TestDevices.Tagged(data);
    }

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul_forward_and_backward(string device, LmVersion version, int N, int C, int OC, bool hasBias)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        const int R = 3;
        long weight = 5, bias = hasBias ? 5 + (long)OC * C : -1, P = 5 + (long)OC * C + OC + 3;
        var input = LmTestKit.Uniforms(1, R * N * C);
        var parameters = LmTestKit.Uniforms(2, R * P);
        var dout = LmTestKit.Uniforms(3, R * N * OC);
        using var x = accelerator.Allocate1D(input);
        using var p = accelerator.Allocate1D(parameters);
        using var y = accelerator.Allocate1D<float>(R * N * OC);
        using var dy = accelerator.Allocate1D(dout);
        using var dx = accelerator.Allocate1D<float>(R * N * C);
        using var g = accelerator.Allocate1D<float>(R * P);
        dx.MemSet(77);
        kernels.MatMulForward(x.View, new ReplicatedParameters(p.View, P), weight, bias, y.View, R, N, C, OC);
        kernels.MatMulBackward(dy.View, x.View, new ReplicatedParameters(p.View, P), weight, bias, dx.View, new ReplicatedParameters(g.View, P), R, N, C, OC);
        var (output, dinput, gradients) = (Read(y), Read(dx), Read(g));
        for (var r = 0; r < R; r++)
        {
            var w = SliceD(parameters, r * P, P);
            var xr = SliceD(input, r * N * C, N * C);
            var expected = new double[N * OC];
            var biasSpan = hasBias ? w.AsSpan((int)bias, OC) : [];
            ReferenceGptOps.MatMulForward(expected, xr, w.AsSpan((int)weight, OC * C), biasSpan, N, C, OC);
            LmTestKit.CloseToScale(expected, Slice(output, r * N * OC, N * OC), 1e-5, $"replicate {r} output");
            var (dxExpected, dw, db) = (new double[N * C], new double[OC * C], new double[hasBias ? OC : 0]);
            ReferenceGptOps.MatMulBackward(dxExpected, dw, db, SliceD(dout, r * N * OC, N * OC), xr, w.AsSpan((int)weight, OC * C), N, C, OC);
            LmTestKit.CloseToScale(dxExpected, Slice(dinput, r * N * C, N * C), 1e-5, $"replicate {r} dinput");
            LmTestKit.CloseToScale(dw, Slice(gradients, r * P + weight, OC * C), 1e-5, $"replicate {r} dweight");
            if (hasBias) LmTestKit.CloseToScale(db, Slice(gradients, r * P + bias, OC), 1e-5, $"replicate {r} dbias");
        }
    }

    public static TheoryData<string, LmVersion, int, int, int> AttentionCases()
    {
        var data = new TheoryData<string, LmVersion, int, int, int>();
        foreach (var (device, version) in TestDevices.LmVersionList())
            // Head sizes below, at and off the CPU path's 8 lanes (4, 16, 12), positions inside one lane chunk, across two
            // with a partial last one, and makemore's own (T = 16, C = 64, 4 heads).
            foreach (var (t, c, nh) in new[] { (5, 12, 3), (13, 32, 2), (11, 36, 3), (16, 64, 4) })
                data.Add(device, version, t, c, nh);
        return TestDevices.Tagged(data);
    }

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void Attention_forward_and_backward(string device, LmVersion version, int T, int C, int NH)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        const int R = 2, B = 2;
        var qkv = LmTestKit.Uniforms(1, R * B * T * 3 * C, 2.0f);
        var dout = LmTestKit.Uniforms(2, R * B * T * C);
        using var qkvBuffer = accelerator.Allocate1D(qkv);
        using var att = accelerator.Allocate1D<float>(R * B * NH * T * T);
        using var y = accelerator.Allocate1D<float>(R * B * T * C);
        using var dy = accelerator.Allocate1D(dout);
        using var dpre = accelerator.Allocate1D<float>(R * B * NH * T * T);
        using var dqkv = accelerator.Allocate1D<float>(R * B * T * 3 * C);
        dqkv.MemSet(77);
        kernels.AttentionForward(qkvBuffer.View, att.View, y.View, T, C, NH);
        kernels.AttentionBackward(qkvBuffer.View, att.View, dy.View, dpre.View, dqkv.View, T, C, NH);
        var (output, weights, gradient) = (Read(y), Read(att), Read(dqkv));
        for (var r = 0; r < R; r++)
        {
            var q = SliceD(qkv, r * B * T * 3 * C, B * T * 3 * C);
            var (expected, attExpected) = (new double[B * T * C], new double[B * NH * T * T]);
            ReferenceGptOps.AttentionForward(expected, attExpected, q, B, T, C, NH);
            LmTestKit.Close(attExpected, Slice(weights, r * B * NH * T * T, B * NH * T * T), 1e-5, $"replicate {r} att");
            LmTestKit.Close(expected, Slice(output, r * B * T * C, B * T * C), 1e-5, $"replicate {r} output");
            var dqkvExpected = new double[B * T * 3 * C];
            ReferenceGptOps.AttentionBackward(dqkvExpected, SliceD(dout, r * B * T * C, B * T * C), q, attExpected, B, T, C, NH);
            LmTestKit.CloseToScale(dqkvExpected, Slice(gradient, r * B * T * 3 * C, B * T * 3 * C), Tolerance, $"replicate {r} dqkv");
        }
    }

    /// <summary>
    /// The shaped attention forward (one group per (sequence, head)), which the shaped version runs only on GPUs, run
    /// directly on every device and group size: the plain kernel's operations in its order, so its numbers, and the reference's.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Present), MemberType = typeof(TestDevices))]
    public void The_shaped_attention_forward_matches_the_plain_kernel_and_the_reference(string device)
    {
        var accelerator = Device(device);
        var plain = LmTestKit.Kernels(device, LmVersion.Plain);
        var shaped = accelerator.LoadStreamKernel<AttentionArgs>(ShapedAttentionKernels.Forward).Serialized(accelerator);
        const int R = 2, B = 3, T = 7, C = 12, NH = 3;
        var qkv = LmTestKit.Uniforms(5, R * B * T * 3 * C, 2.0f);
        using var qkvBuffer = accelerator.Allocate1D(qkv);
        using var att = accelerator.Allocate1D<float>(R * B * NH * T * T);
        using var y = accelerator.Allocate1D<float>(R * B * T * C);
        plain.AttentionForward(qkvBuffer.View, att.View, y.View, T, C, NH);
        accelerator.Synchronize();
        var (plainOutput, plainWeights) = (Read(y), Read(att));
        var args = new AttentionArgs { Qkv = qkvBuffer.View, Att = att.View, Output = y.View, Time = T, Width = C, Heads = NH };
        foreach (var groupSize in new[] { 1, 4, 16 }.Where(g => g <= accelerator.MaxNumThreadsPerGroup))
            foreach (var groups in new[] { 1, 5, R * B * NH })
            {
                att.MemSet(77);
                y.MemSet(77);
                shaped(new KernelConfig(groups, groupSize), args);
                accelerator.Synchronize();
                var (output, weights) = (Read(y), Read(att));
                for (var r = 0; r < R; r++)
                {
                    var (expected, attExpected) = (new double[B * T * C], new double[B * NH * T * T]);
                    ReferenceGptOps.AttentionForward(expected, attExpected, SliceD(qkv, r * B * T * 3 * C, B * T * 3 * C), B, T, C, NH);
                    LmTestKit.Close(expected, Slice(output, r * B * T * C, B * T * C), 1e-5, $"group {groupSize}, {groups} groups: replicate {r} output");
                }
                for (var i = 0; i < output.Length; i++) Assert.True(Math.Abs(output[i] - plainOutput[i]) <= 1e-6f * (1 + Math.Abs(plainOutput[i])), $"output {i}");
                for (var i = 0; i < weights.Length; i++) Assert.True(Math.Abs(weights[i] - plainWeights[i]) <= 1e-6f, $"att {i}");
            }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Gelu_forward_and_backward(string device, LmVersion version)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        var input = LmTestKit.Uniforms(1, 1000, 6.0f);
        var dout = LmTestKit.Uniforms(2, 1000);
        using var x = accelerator.Allocate1D(input);
        using var y = accelerator.Allocate1D<float>(1000);
        using var dy = accelerator.Allocate1D(dout);
        using var dx = accelerator.Allocate1D<float>(1000);
        kernels.GeluForward(x.View, y.View);
        kernels.GeluBackward(x.View, dy.View, dx.View);
        LmTestKit.Close(input.Select(v => ReferenceGptOps.Gelu(v)).ToArray(), Read(y), 1e-6, "gelu");
        LmTestKit.Close(input.Select((v, i) => ReferenceGptOps.GeluDerivative(v) * dout[i]).ToArray(), Read(dx), 1e-6, "gelu backward");
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void Cross_entropy_loss_and_gradient_with_ignored_targets(string device, LmVersion version)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        const int R = 2, N = 9, V = 6;
        var random = new System.Random(3);
        var targets = Enumerable.Range(0, R * N).Select(_ => random.Next(-1, V)).ToArray();
        targets[0] = -1;
        var logits = LmTestKit.Uniforms(4, R * N * V, 5.0f);
        using var logitBuffer = accelerator.Allocate1D(logits);
        using var targetBuffer = accelerator.Allocate1D(targets);
        using var counts = accelerator.Allocate1D<int>(R);
        using var scale = accelerator.Allocate1D<float>(R);
        using var losses = accelerator.Allocate1D<float>(R * N);
        using var sums = accelerator.Allocate1D<double>(R);
        kernels.CountTargets(targetBuffer.View, counts.View, scale.View, N);
        kernels.CrossEntropy(logitBuffer.View, targetBuffer.View, scale.View, losses.View, N, V, writeGradient: true);
        kernels.SumLosses(losses.View, sums.View, N);
        accelerator.Synchronize();
        var (gradient, sum, count) = (Read(logitBuffer), sums.GetAsArray1D(), counts.GetAsArray1D());
        for (var r = 0; r < R; r++)
        {
            var rowTargets = targets.AsSpan(r * N, N).ToArray();
            var probs = new double[N * V];
            var (expectedSum, expectedCount) = ReferenceGptOps.CrossEntropyForward(probs, SliceD(logits, r * N * V, N * V), rowTargets, N, V);
            Assert.Equal(expectedCount, count[r]);
            Assert.Equal(expectedSum, sum[r], 1e-5 * expectedSum);
            var expected = new double[N * V];
            ReferenceGptOps.CrossEntropyBackward(expected, probs, rowTargets, expectedCount, N, V);
            LmTestKit.CloseToScale(expected, Slice(gradient, r * N * V, N * V), 1e-6, $"replicate {r} dlogits");
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.LmVersions), MemberType = typeof(TestDevices))]
    public void AdamW_steps_with_per_replicate_clipping(string device, LmVersion version)
    {
        var (kernels, accelerator) = (LmTestKit.Kernels(device, version), Device(device));
        const int R = 2, P = 9000; // more than two norm chunks
        // Replicate 0's gradient is large (clipped at 1.5), replicate 1's small (untouched).
        var settings = new GptTraining(Batch: 1, LearningRate: 1e-2, WeightDecay: 0.1, MaxGradNorm: 1.5);
        var parameters = LmTestKit.Uniforms(1, R * P);
        var steps = new[] { LmTestKit.Uniforms(2, R * P), LmTestKit.Uniforms(3, R * P) };
        foreach (var values in steps)
            for (var i = P; i < R * P; i++) values[i] *= 1e-3f;
        using var p = accelerator.Allocate1D(parameters);
        using var m = accelerator.Allocate1D<float>(R * P);
        using var v = accelerator.Allocate1D<float>(R * P);
        using var g = accelerator.Allocate1D<float>(R * P);
        using var partials = accelerator.Allocate1D<double>(LmKernels.NormPartialCount(R, P));
        using var norms = accelerator.Allocate1D<double>(R);
        using var scale = accelerator.Allocate1D<float>(R);
        m.MemSetToZero();
        v.MemSetToZero();
        var expected = Enumerable.Range(0, R).Select(r => SliceD(parameters, r * P, P)).ToArray();
        var (em, ev) = (Enumerable.Range(0, R).Select(_ => new double[P]).ToArray(), Enumerable.Range(0, R).Select(_ => new double[P]).ToArray());
        for (var step = 1; step <= steps.Length; step++)
        {
            g.View.CopyFromCPU(steps[step - 1]);
            kernels.GradientNorm(new ReplicatedParameters(g.View, P), partials.View, norms.View, scale.View, settings.MaxGradNorm);
            kernels.AdamW(new ReplicatedParameters(p.View, P), g.View, m.View, v.View, scale.View, settings, step);
            accelerator.Synchronize();
            var norm = norms.GetAsArray1D();
            for (var r = 0; r < R; r++)
            {
                var gradient = SliceD(steps[step - 1], r * P, P);
                var expectedNorm = ReferenceGptOps.ClipGradientNorm(gradient, settings.MaxGradNorm);
                Assert.Equal(expectedNorm, norm[r], 1e-6 * expectedNorm);
                ReferenceGptOps.AdamW(expected[r], gradient, em[r], ev[r], step, settings);
            }
            Assert.True(norm[0] > settings.MaxGradNorm && norm[1] < settings.MaxGradNorm, $"norms {norm[0]}, {norm[1]}");
        }
        var result = Read(p);
        for (var r = 0; r < R; r++) LmTestKit.Close(expected[r], Slice(result, r * P, P), 1e-6, $"replicate {r} parameters");
    }
}
