using System.Runtime.Intrinsics;

namespace Collapse.Kernels.Cpu;

/// <summary>
/// KDE scoring for the CPU path, one replicate per call: fitted points transposed to one array
/// per coordinate, then for each test point a vector pass for the block's max and one for the sum
/// of exponentials (AVX2), merged into the running (max, sum) state exactly as the ILGPU kernel does.
/// </summary>
public static unsafe class SimdKde
{
    /// <param name="columns">Scratch for dim · fittedCount doubles.</param>
    public static void Accumulate(double* test, int testCount, double* fitted, int fittedCount, int dim, double inverseTwoH2,
        double* state, double* columns)
    {
        for (var i = 0; i < fittedCount; i++)
            for (var j = 0; j < dim; j++) columns[(long)j * fittedCount + i] = fitted[(long)i * dim + j];
        var scale = Vector256.Create(-inverseTwoH2);
        for (var t = 0; t < testCount; t++)
        {
            var point = test + (long)t * dim;
            var blockMax = double.NegativeInfinity;
            var i = 0;
            var maxVector = Vector256.Create(double.NegativeInfinity);
            for (; i + 4 <= fittedCount; i += 4) maxVector = Vector256.Max(maxVector, Values(point, columns, fittedCount, dim, i, scale));
            for (var lane = 0; lane < 4; lane++) blockMax = Math.Max(blockMax, maxVector.GetElement(lane));
            for (; i < fittedCount; i++) blockMax = Math.Max(blockMax, Value(point, columns, fittedCount, dim, i, inverseTwoH2));

            var shift = Vector256.Create(blockMax);
            var sumVector = Vector256<double>.Zero;
            i = 0;
            for (; i + 4 <= fittedCount; i += 4)
                sumVector += Vector256.Exp(Values(point, columns, fittedCount, dim, i, scale) - shift);
            var blockSum = Vector256.Sum(sumVector);
            for (; i < fittedCount; i++) blockSum += Math.Exp(Value(point, columns, fittedCount, dim, i, inverseTwoH2) - blockMax);

            var max = state[2 * t];
            if (blockMax > max)
            {
                state[2 * t + 1] = state[2 * t + 1] * Math.Exp(max - blockMax) + blockSum;
                state[2 * t] = blockMax;
            }
            else state[2 * t + 1] += blockSum * Math.Exp(blockMax - max);
        }
    }

    static Vector256<double> Values(double* point, double* columns, int count, int dim, int i, Vector256<double> scale)
    {
        var squared = Vector256<double>.Zero;
        for (var j = 0; j < dim; j++)
        {
            var delta = Vector256.Create(point[j]) - Vector256.Load(columns + (long)j * count + i);
            squared = Vector256.FusedMultiplyAdd(delta, delta, squared);
        }
        return squared * scale;
    }

    static double Value(double* point, double* columns, int count, int dim, int i, double inverseTwoH2)
    {
        var squared = 0.0;
        for (var j = 0; j < dim; j++)
        {
            var delta = point[j] - columns[(long)j * count + i];
            squared += delta * delta;
        }
        return -squared * inverseTwoH2;
    }
}
