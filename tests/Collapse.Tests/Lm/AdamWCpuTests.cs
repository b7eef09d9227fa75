using Collapse.Kernels.Lm;

namespace Collapse.Tests.Lm;

/// <summary>The CPU path's vectorized AdamW: the scalar step's bits on every lane and on the tail.</summary>
public unsafe class AdamWCpuTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(1003)]
    public void The_vector_step_gives_the_scalar_steps_bits(int count)
    {
        var step = new AdamWStep
        {
            LearningRate = 1e-3f, Beta1 = 0.9f, Beta2 = 0.99f, Epsilon = 1e-8f, WeightDecay = 0.01f,
            Correction1 = (float)(1 - Math.Pow(0.9, 3)), Correction2 = (float)(1 - Math.Pow(0.99, 3)),
        };
        var (p, g, m, v) = (LmTestKit.Uniforms(1, count), LmTestKit.Uniforms(2, count), LmTestKit.Uniforms(3, count, 0.1f), LmTestKit.Uniforms(4, count, 0.01f));
        for (var i = 0; i < count; i++) v[i] = Math.Abs(v[i]);
        var (ps, ms, vs) = ((float[])p.Clone(), (float[])m.Clone(), (float[])v.Clone());
        const float scale = 0.75f;
        for (var i = 0; i < count; i++) ps[i] = AdamWKernels.Updated(ps[i], g[i] * scale, ref ms[i], ref vs[i], step);
        fixed (float* pp = p, pg = g, pm = m, pv = v) AdamWCpu.Update(pp, pg, pm, pv, count, scale, step);
        Assert.Equal(ps, p);
        Assert.Equal(ms, m);
        Assert.Equal(vs, v);
    }
}
