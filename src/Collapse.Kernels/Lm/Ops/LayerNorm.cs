using ILGPU;

namespace Collapse.Kernels.Lm;

// LayerNorm over the channels of each row (PyTorch's: biased variance, eps 1e-5), batched over
// replicates. Rows are [R][N][C]; mean and 1/std are kept per row [R][N] for backward.

/// <summary>Arguments of the LayerNorm kernels.</summary>
public struct LayerNormArgs
{
    /// <summary>The rows normalized [R][N][C], and (backward) the gradient of the output.</summary>
    public ArrayView<float> Input, Dout;
    /// <summary>The parameter vector and the offsets of the weight and bias in each replicate's P.</summary>
    public ArrayView<float> Parameters;
    public long Weight, Bias, ParameterCount;
    /// <summary>Forward: the output [R][N][C]; backward: the input gradient it adds to.</summary>
    public ArrayView<float> Output;
    public ArrayView<float> Mean, Rstd;
    /// <summary>Backward: the gradient vector (same layout as the parameters).</summary>
    public ArrayView<float> Gradients;
    public int Replicates;
    public long RowsPerReplicate;
    public int Width;
}

static class LayerNormKernels
{
    public const float Epsilon = 1e-5f;

    /// <summary>One item per (replicate, row): two passes (mean, then the centred variance), so a row far from 0 loses nothing.</summary>
    public static void Forward(Index1D thread, LayerNormArgs a, int stride)
    {
        var (input, parameters, output, width) = (a.Input, a.Parameters, a.Output, a.Width);
        var rows = a.Mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var r = row / a.RowsPerReplicate;
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
            var w = r * a.ParameterCount + a.Weight;
            var b = r * a.ParameterCount + a.Bias;
            for (var c = 0; c < width; c++)
                output[x + c] = (input[x + c] - m) * s * parameters[w + c] + parameters[b + c];
            a.Mean[row] = m;
            a.Rstd[row] = s;
        }
    }

    /// <summary>
    /// dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dout·w, x̂ = (x − mean)·rstd; one item per
    /// row. Adds, because the input is the residual stream, whose gradient already holds the
    /// pass-through part of x + f(LayerNorm(x)).
    /// </summary>
    public static void BackwardInput(Index1D thread, LayerNormArgs a, int stride)
    {
        var (dout, input, parameters, dinput, width) = (a.Dout, a.Input, a.Parameters, a.Output, a.Width);
        var rows = a.Mean.Length;
        for (long row = thread; row < rows; row += stride)
        {
            var w = row / a.RowsPerReplicate * a.ParameterCount + a.Weight;
            var x = row * width;
            var (m, s) = (a.Mean[row], a.Rstd[row]);
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
    public static void BackwardParameters(Index1D thread, LayerNormArgs a, int stride)
    {
        var (dout, input, mean, rstd, width) = (a.Dout, a.Input, a.Mean, a.Rstd, a.Width);
        var total = (long)a.Replicates * 2 * width;
        for (long item = thread; item < total; item += stride)
        {
            var r = item / (2 * width);
            var rest = (int)(item - r * 2 * width);
            var isBias = rest >= width;
            var c = isBias ? rest - width : rest;
            var sum = 0.0;
            for (long n = 0; n < a.RowsPerReplicate; n++)
            {
                var row = r * a.RowsPerReplicate + n;
                var d = dout[row * width + c];
                sum += isBias ? d : d * (input[row * width + c] - mean[row]) * rstd[row];
            }
            a.Gradients[r * a.ParameterCount + (isBias ? a.Bias : a.Weight) + c] = (float)sum;
        }
    }
}

/// <summary>LayerNorm on the CPU path: the kernels' arithmetic as pointer loops over a range of rows.</summary>
static unsafe class LayerNormCpu
{
    public static void Forward(float* input, float* weight, float* bias, float* output, float* mean, float* rstd, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            var x = input + n * width;
            var m = 0.0f;
            for (var c = 0; c < width; c++) m += x[c];
            m /= width;
            var variance = 0.0f;
            for (var c = 0; c < width; c++) variance += (x[c] - m) * (x[c] - m);
            var s = 1.0f / MathF.Sqrt(variance / width + LayerNormKernels.Epsilon);
            var y = output + n * width;
            for (var c = 0; c < width; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
            mean[n] = m;
            rstd[n] = s;
        }
    }

    /// <summary>dinput += rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dout·w, for <paramref name="rows"/> rows.</summary>
    public static void BackwardInput(float* dout, float* input, float* weight, float* mean, float* rstd, float* dinput, long rows, int width)
    {
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width, dx = dinput + n * width;
            var (m, s) = (mean[n], rstd[n]);
            float meanG = 0, meanGXhat = 0;
            for (var c = 0; c < width; c++)
            {
                var g = d[c] * weight[c];
                meanG += g;
                meanGXhat += g * (x[c] - m) * s;
            }
            meanG /= width;
            meanGXhat /= width;
            for (var c = 0; c < width; c++) dx[c] += s * (d[c] * weight[c] - meanG - (x[c] - m) * s * meanGXhat);
        }
    }

    /// <summary>One replicate's dweight = Σ_rows dout·x̂ and dbias = Σ_rows dout (overwritten).</summary>
    public static void BackwardParameters(float* dout, float* input, float* mean, float* rstd, float* dweight, float* dbias, long rows, int width)
    {
        new Span<float>(dweight, width).Clear();
        new Span<float>(dbias, width).Clear();
        for (long n = 0; n < rows; n++)
        {
            float* d = dout + n * width, x = input + n * width;
            var (m, s) = (mean[n], rstd[n]);
            for (var c = 0; c < width; c++)
            {
                dweight[c] += d[c] * (x[c] - m) * s;
                dbias[c] += d[c];
            }
        }
    }
}

public sealed unsafe partial class LmKernels
{
    /// <summary>output, mean, rstd of input [R][N][C]; mean and rstd are [R][N] views of exactly R·N.</summary>
    public void LayerNormForward(ArrayView<float> input, ReplicatedParameters p, long weight, long bias, ArrayView<float> output,
        ArrayView<float> mean, ArrayView<float> rstd, long rowsPerReplicate, int width)
    {
        if (Version == LmVersion.Cpu)
        {
            float* x = Ptr(input), w = Ptr(p.View), y = Ptr(output), m = Ptr(mean), s = Ptr(rstd);
            var count = p.Count;
            HostRanges(mean.Length, mean.Length * width, (first, n) => ForEachReplicate(first, n, rowsPerReplicate, (r, row, k) =>
            {
                var at = r * rowsPerReplicate + row;
                LayerNormCpu.Forward(x + at * width, w + r * count + weight, w + r * count + bias, y + at * width, m + at, s + at, k, width);
            }));
            return;
        }
        Launch(layerNormForward, mean.Length, new LayerNormArgs
        {
            Input = input, Parameters = p.View, Weight = weight, Bias = bias, ParameterCount = p.Count, Output = output,
            Mean = mean, Rstd = rstd, RowsPerReplicate = rowsPerReplicate, Width = width,
        });
    }

    /// <summary>dinput += the LayerNorm's input gradient; the weight and bias gradients are overwritten.</summary>
    public void LayerNormBackward(ArrayView<float> dout, ArrayView<float> input, ReplicatedParameters p, long weight, long bias,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dinput, ReplicatedParameters gradients, int replicates,
        long rowsPerReplicate, int width)
    {
        if (Version == LmVersion.Cpu)
        {
            float* dy = Ptr(dout), x = Ptr(input), w = Ptr(p.View), m = Ptr(mean), s = Ptr(rstd), dx = Ptr(dinput), g = Ptr(gradients.View);
            var count = p.Count;
            // Items: every replicate's rows for the input gradient, then one item per replicate for the weight and bias gradients.
            var rows = mean.Length;
            HostRanges(rows + replicates, 2 * rows * width, (first, n) =>
            {
                var end = first + n;
                if (first < rows)
                    ForEachReplicate(first, Math.Min(end, rows) - first, rowsPerReplicate, (r, row, k) =>
                    {
                        var at = r * rowsPerReplicate + row;
                        LayerNormCpu.BackwardInput(dy + at * width, x + at * width, w + r * count + weight, m + at, s + at, dx + at * width, k, width);
                    });
                for (var r = Math.Max(first, rows) - rows; r < end - rows; r++)
                    LayerNormCpu.BackwardParameters(dy + r * rowsPerReplicate * width, x + r * rowsPerReplicate * width, m + r * rowsPerReplicate,
                        s + r * rowsPerReplicate, g + r * gradients.Count + weight, g + r * gradients.Count + bias, rowsPerReplicate, width);
            });
            return;
        }
        var args = new LayerNormArgs
        {
            Input = input, Dout = dout, Parameters = p.View, Weight = weight, Bias = bias, ParameterCount = p.Count, Output = dinput,
            Mean = mean, Rstd = rstd, Gradients = gradients.View, Replicates = replicates, RowsPerReplicate = rowsPerReplicate, Width = width,
        };
        Launch(layerNormBackwardInput, mean.Length, args);
        Launch(layerNormBackwardParameters, (long)replicates * 2 * width, args);
    }
}
