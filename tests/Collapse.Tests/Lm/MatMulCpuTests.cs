using Collapse.Kernels.Lm;
using Collapse.Performance.Reference;

namespace Collapse.Tests.Lm;

/// <summary>
/// The CPU path's matrix products at both SIMD widths: the AVX2 tiles alone against the float64 reference, and the
/// AVX-512 8 × 32 tiles (with their AVX2 leftovers) bit for bit against the AVX2 tiles, since every output is the same
/// chain of FMAs in either. Shapes cross every tile edge: rows off 8 and 4, columns off 32, 16 and 8, and the model's own.
/// </summary>
public unsafe class MatMulCpuTests
{
    public static TheoryData<int, int, int, bool> Shapes() => new()
    {
        { 37, 64, 192, true }, { 21, 256, 64, false }, { 13, 20, 27, true }, { 64, 64, 256, true }, { 9, 48, 70, true }, { 3, 5, 9, false },
    };

    /// <summary>Forward output, input gradient, weight gradient and bias gradient of one product.</summary>
    static (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(int n, int c, int oc, bool hasBias, bool wide)
    {
        var x = LmTestKit.Uniforms(1, n * c);
        var w = LmTestKit.Uniforms(2, oc * c);
        var bias = LmTestKit.Uniforms(3, oc);
        var dy = LmTestKit.Uniforms(4, n * oc);
        var (y, dx, dw, db, transposed) = (new float[n * oc], new float[n * c], new float[oc * c], new float[oc], new float[c * oc]);
        fixed (float* px = x, pw = w, pb = bias, pdy = dy, py = y, pdx = dx, pdw = dw, pdb = db, pt = transposed)
        {
            MatMulCpu.Forward(px, pw, hasBias ? pb : null, py, n, c, oc, pt, wide);
            MatMulCpu.BackwardInput(pdy, pw, pdx, n, c, oc, wide);
            // Two blocks of outputs, as the launcher splits them: the second starts off every tile edge.
            var split = Math.Min(oc, 11);
            MatMulCpu.BackwardWeight(pdy, px, pdw, hasBias ? pdb : null, n, c, oc, 0, split, wide);
            MatMulCpu.BackwardWeight(pdy, px, pdw, hasBias ? pdb : null, n, c, oc, split, oc - split, wide);
        }
        return (y, dx, dw, db);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_AVX2_tiles_match_the_reference(int n, int c, int oc, bool hasBias)
    {
        Assert.SkipUnless(MatMulCpu.IsSupported, "this CPU has no AVX2/FMA");
        var (y, dx, dw, db) = Run(n, c, oc, hasBias, wide: false);
        var (x, w, bias, dy) = (D(LmTestKit.Uniforms(1, n * c)), D(LmTestKit.Uniforms(2, oc * c)), D(LmTestKit.Uniforms(3, oc)), D(LmTestKit.Uniforms(4, n * oc)));
        var expected = new double[n * oc];
        ReferenceGptOps.MatMulForward(expected, x, w, hasBias ? bias : [], n, c, oc);
        LmTestKit.CloseToScale(expected, y, 1e-5, "output");
        var (dxExpected, dwExpected, dbExpected) = (new double[n * c], new double[oc * c], new double[hasBias ? oc : 0]);
        ReferenceGptOps.MatMulBackward(dxExpected, dwExpected, dbExpected, dy, x, w, n, c, oc);
        LmTestKit.CloseToScale(dxExpected, dx, 1e-5, "dinput");
        LmTestKit.CloseToScale(dwExpected, dw, 1e-5, "dweight");
        if (hasBias) LmTestKit.CloseToScale(dbExpected, db, 1e-5, "dbias");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_AVX512_tiles_give_the_AVX2_tiles_bits(int n, int c, int oc, bool hasBias)
    {
        Assert.SkipUnless(MatMulCpu.Is512Supported, "this CPU has no AVX-512 (the AVX2 tiles are still tested against the reference)");
        var narrow = Run(n, c, oc, hasBias, wide: false);
        var wide = Run(n, c, oc, hasBias, wide: true);
        Assert.Equal(narrow.Y, wide.Y);
        Assert.Equal(narrow.Dx, wide.Dx);
        Assert.Equal(narrow.Dw, wide.Dw);
        Assert.Equal(narrow.Db, wide.Db);
    }

    static double[] D(float[] values) => [.. values.Select(v => (double)v)];
}
