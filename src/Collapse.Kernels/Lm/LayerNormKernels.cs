using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// LayerNorm over the channels of each row (PyTorch's: biased variance, eps 1e-5), batched over
/// replicates. Rows are [R][N][C]; mean and 1/std are kept per row [R][N] for backward.
/// </summary>
static class LayerNormKernels
{
    public const float Epsilon = 1e-5f;

    /// <summary>One item per (replicate, row): two passes (mean, then the centred variance), so a row far from 0 loses nothing.</summary>
    public static void Forward(Index1D thread, ArrayView<float> input, ArrayView<float> parameters, long weight, long bias, long parameterCount,
        ArrayView<float> output, ArrayView<float> mean, ArrayView<float> rstd, long rowsPerReplicate, int width, int stride)
    {
        var rows = mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var r = row / rowsPerReplicate;
            var x = row * width;
            var m = 0.0f;
            for (var c = 0; c < width; c++) m += input[x + c];
            m /= width;
            var variance = 0.0f;
            for (var c = 0; c < width; c++)
            {
                var d = input[x + c] - m;
                variance += d * d;
            }
            var s = 1.0f / MathF.Sqrt(variance / width + Epsilon);
            var w = r * parameterCount + weight;
            var b = r * parameterCount + bias;
            for (var c = 0; c < width; c++)
                output[x + c] = (input[x + c] - m) * s * parameters[w + c] + parameters[b + c];
            mean[row] = m;
            rstd[row] = s;
        }
    }

    /// <summary>
    /// dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dout·w, x̂ = (x − mean)·rstd; one item per
    /// row. Adds, because the input is the residual stream, whose gradient already holds the
    /// pass-through part of x + f(LayerNorm(x)).
    /// </summary>
    public static void BackwardInput(Index1D thread, ArrayView<float> dout, ArrayView<float> input, ArrayView<float> parameters, long weight,
        long parameterCount, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dinput, long rowsPerReplicate, int width, int stride)
    {
        var rows = mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var w = row / rowsPerReplicate * parameterCount + weight;
            var x = row * width;
            var (m, s) = (mean[row], rstd[row]);
            var meanG = 0.0f;
            var meanGXhat = 0.0f;
            for (var c = 0; c < width; c++)
            {
                var g = dout[x + c] * parameters[w + c];
                meanG += g;
                meanGXhat += g * (input[x + c] - m) * s;
            }
            meanG /= width;
            meanGXhat /= width;
            for (var c = 0; c < width; c++)
            {
                var g = dout[x + c] * parameters[w + c];
                dinput[x + c] += s * (g - meanG - (input[x + c] - m) * s * meanGXhat);
            }
        }
    }

    /// <summary>
    /// dweight[c] = Σ_rows dout·x̂, dbias[c] = Σ_rows dout (double sums over up to B·T rows); one
    /// item per (replicate, channel, weight-or-bias). Overwrites.
    /// </summary>
    public static void BackwardParameters(Index1D thread, ArrayView<float> dout, ArrayView<float> input, ArrayView<float> mean,
        ArrayView<float> rstd, ArrayView<float> gradients, long weight, long bias, long parameterCount, int replicates,
        long rowsPerReplicate, int width, int stride)
    {
        var total = (long)replicates * 2 * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / (2 * width);
            var rest = (int)(item - r * 2 * width);
            var isBias = rest >= width;
            var c = isBias ? rest - width : rest;
            var sum = 0.0;
            for (long n = 0; n < rowsPerReplicate; n++)
            {
                var row = r * rowsPerReplicate + n;
                var d = dout[row * width + c];
                sum += isBias ? d : d * (input[row * width + c] - mean[row]) * rstd[row];
            }
            gradients[r * parameterCount + (isBias ? bias : weight) + c] = (float)sum;
        }
    }
}
