using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// nn.Linear, batched over replicates: out[r][n][o] = Σ_c in[r][n][c]·W[r][o][c] + bias[r][o],
/// weights [OC][C] inside the [R][P] parameter vector, activations compact [R][N][·].
/// A bias offset below 0 means no bias (the head). These are the plain grid-stride kernels that
/// GPUs run; on a CPU accelerator <see cref="Cpu.SimdMatMul"/> serves instead (ILGPU's CPU
/// backend runs matmuls near 1 GFLOP/s).
/// </summary>
static class MatMulKernels
{
    /// <summary>Items: R·N·OC, each a dot product of length C.</summary>
    public static void Forward(Index1D thread, ArrayView<float> input, ArrayView<float> parameters, long weight, long bias, long parameterCount,
        ArrayView<float> output, long rowsPerReplicate, int inputWidth, int outputWidth, int stride)
    {
        var total = output.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / outputWidth;
            var o = (int)(item - row * outputWidth);
            var r = row / rowsPerReplicate;
            var w = r * parameterCount + weight + (long)o * inputWidth;
            var x = row * inputWidth;
            var sum = bias >= 0 ? parameters[r * parameterCount + bias + o] : 0.0f;
            for (var c = 0; c < inputWidth; c++) sum += input[x + c] * parameters[w + c];
            output[item] = sum;
        }
    }

    /// <summary>dinput[r][n][c] = Σ_o dout[r][n][o]·W[r][o][c]; overwrites. Items: R·N·C.</summary>
    public static void BackwardInput(Index1D thread, ArrayView<float> dout, ArrayView<float> parameters, long weight, long parameterCount,
        ArrayView<float> dinput, long rowsPerReplicate, int inputWidth, int outputWidth, int stride)
    {
        var total = dinput.Length;
        for (long item = thread; item < total; item += stride)
        {
            var row = item / inputWidth;
            var c = (int)(item - row * inputWidth);
            var w = row / rowsPerReplicate * parameterCount + weight + c;
            var sum = 0.0f;
            for (var o = 0; o < outputWidth; o++) sum += dout[row * outputWidth + o] * parameters[w + (long)o * inputWidth];
            dinput[item] = sum;
        }
    }

    /// <summary>
    /// dW[r][o][c] = Σ_n dout[r][n][o]·in[r][n][c] and, in an extra column c = C, dbias[r][o] = Σ_n dout[r][n][o]
    /// (double sums over the N = B·T rows); overwrites. Items: R·OC·(C + 1), or R·OC·C without a bias.
    /// </summary>
    public static void BackwardWeight(Index1D thread, ArrayView<float> dout, ArrayView<float> input, ArrayView<float> gradients, long weight,
        long bias, long parameterCount, int replicates, long rowsPerReplicate, int inputWidth, int outputWidth, int stride)
    {
        var columns = bias >= 0 ? inputWidth + 1 : inputWidth;
        var total = (long)replicates * outputWidth * columns;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / ((long)outputWidth * columns);
            var rest = item - r * outputWidth * columns;
            var o = (int)(rest / columns);
            var c = (int)(rest - (long)o * columns);
            var sum = 0.0;
            var first = r * rowsPerReplicate;
            if (c == inputWidth)
            {
                for (long n = first; n < first + rowsPerReplicate; n++) sum += dout[n * outputWidth + o];
                gradients[r * parameterCount + bias + o] = (float)sum;
            }
            else
            {
                for (long n = first; n < first + rowsPerReplicate; n++) sum += dout[n * outputWidth + o] * input[n * inputWidth + c];
                gradients[r * parameterCount + weight + (long)o * inputWidth + c] = (float)sum;
            }
        }
    }
}
