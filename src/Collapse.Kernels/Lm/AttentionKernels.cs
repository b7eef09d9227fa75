using ILGPU;

namespace Collapse.Kernels.Lm;

/// <summary>
/// Causal multi-head self-attention, batched over replicates. qkv is [R][B][T][3C] (q, k, v side by
/// side, head h on channels h·hs … (h+1)·hs − 1 of each); att is [R][B][NH][T][T], the softmax rows
/// kept for backward (0 above the diagonal); out is [R][B][T][C].
/// </summary>
static class AttentionKernels
{
    /// <summary>One item per (replicate, b, head, query position t): its att row, then y_t = Σ_t2 att[t2]·v_t2.</summary>
    public static void Forward(Index1D thread, ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> output,
        int time, int width, int heads, int stride)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var rows = att.Length / time; // R·B·NH·T
        for (long item = thread; item < rows; item += stride)
        {
            var t = (int)(item % time);
            var h = (int)(item / time % heads);
            var sequence = item / ((long)time * heads); // r·B + b
            var q = (sequence * time + t) * 3 * width + (long)h * hs;
            var a = item * time;
            var max = float.NegativeInfinity;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var k = (sequence * time + t2) * 3 * width + width + (long)h * hs;
                var dot = 0.0f;
                for (var i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i];
                dot *= scale;
                att[a + t2] = dot;
                max = MathF.Max(max, dot);
            }
            var sum = 0.0f;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var e = MathF.Exp(att[a + t2] - max);
                att[a + t2] = e;
                sum += e;
            }
            var inverse = 1.0f / sum;
            for (var t2 = 0; t2 < time; t2++) att[a + t2] = t2 <= t ? att[a + t2] * inverse : 0.0f;
            var y = (sequence * time + t) * width + (long)h * hs;
            for (var i = 0; i < hs; i++)
            {
                var sumY = 0.0f;
                for (var t2 = 0; t2 <= t; t2++) sumY += att[a + t2] * qkv[(sequence * time + t2) * 3 * width + 2 * width + (long)h * hs + i];
                output[y + i] = sumY;
            }
        }
    }

    /// <summary>
    /// Attention of one new position per sequence against a key/value cache, for sampling: qkv is the
    /// new position's [R·B][3C]; cache is [R·B][blockSize][2C] (keys, then values); the item for
    /// (sequence, head) first stores its head's key and value at <paramref name="position"/>, then
    /// attends over positions 0 … position exactly as <see cref="Forward"/> does for that query (the
    /// same operations in the same order, so the same bits); att is scratch of [R·B·NH][blockSize].
    /// </summary>
    public static void ForwardCached(Index1D thread, ArrayView<float> qkv, ArrayView<float> cache, ArrayView<float> att, ArrayView<float> output,
        int position, int blockSize, int width, int heads, int stride)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var items = output.Length / hs; // R·B·NH
        for (long item = thread; item < items; item += stride)
        {
            var h = (int)(item % heads);
            var sequence = item / heads;
            var q = sequence * 3 * width + (long)h * hs;
            var entries = sequence * blockSize * 2 * width;
            var here = entries + (long)position * 2 * width + (long)h * hs;
            for (var i = 0; i < hs; i++)
            {
                cache[here + i] = qkv[q + width + i];
                cache[here + width + i] = qkv[q + 2 * width + i];
            }
            var a = item * blockSize;
            var max = float.NegativeInfinity;
            for (var t2 = 0; t2 <= position; t2++)
            {
                var k = entries + (long)t2 * 2 * width + (long)h * hs;
                var dot = 0.0f;
                for (var i = 0; i < hs; i++) dot += qkv[q + i] * cache[k + i];
                dot *= scale;
                att[a + t2] = dot;
                max = MathF.Max(max, dot);
            }
            var sum = 0.0f;
            for (var t2 = 0; t2 <= position; t2++)
            {
                var e = MathF.Exp(att[a + t2] - max);
                att[a + t2] = e;
                sum += e;
            }
            var inverse = 1.0f / sum;
            for (var t2 = 0; t2 <= position; t2++) att[a + t2] *= inverse;
            var y = sequence * width + (long)h * hs;
            for (var i = 0; i < hs; i++)
            {
                var sumY = 0.0f;
                for (var t2 = 0; t2 <= position; t2++) sumY += att[a + t2] * cache[entries + (long)t2 * 2 * width + width + (long)h * hs + i];
                output[y + i] = sumY;
            }
        }
    }

    /// <summary>
    /// Backward through the softmax: datt[t2] = dy_t·v_t2, then
    /// dpre[t][t2] = att[t][t2]·(datt[t2] − Σ_j att[t][j]·datt[j])·(1/√hs), written to dpre (same shape
    /// as att). One item per att row.
    /// </summary>
    public static void BackwardScores(Index1D thread, ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> dout,
        ArrayView<float> dpre, int time, int width, int heads, int stride)
    {
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var rows = att.Length / time;
        for (long item = thread; item < rows; item += stride)
        {
            var t = (int)(item % time);
            var h = (int)(item / time % heads);
            var sequence = item / ((long)time * heads);
            var dy = (sequence * time + t) * width + (long)h * hs;
            var a = item * time;
            var weighted = 0.0f;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var v = (sequence * time + t2) * 3 * width + 2 * width + (long)h * hs;
                var datt = 0.0f;
                for (var i = 0; i < hs; i++) datt += dout[dy + i] * qkv[v + i];
                dpre[a + t2] = datt;
                weighted += att[a + t2] * datt;
            }
            for (var t2 = 0; t2 < time; t2++) dpre[a + t2] = t2 <= t ? att[a + t2] * (dpre[a + t2] - weighted) * scale : 0.0f;
        }
    }

    /// <summary>
    /// dq_t = Σ_{t2 ≤ t} dpre[t][t2]·k_t2, dk_t = Σ_{t1 ≥ t} dpre[t1][t]·q_t1, dv_t = Σ_{t1 ≥ t} att[t1][t]·dy_t1:
    /// each item owns one channel of one position, so there are no atomics. Overwrites dqkv. Items: R·B·T·C.
    /// </summary>
    public static void BackwardQkv(Index1D thread, ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> dpre, ArrayView<float> dout,
        ArrayView<float> dqkv, int time, int width, int heads, int stride)
    {
        var hs = width / heads;
        var total = dout.Length;
        for (long item = thread; item < total; item += stride)
        {
            var position = item / width; // (r·B + b)·T + t
            var channel = (int)(item - position * width);
            var h = channel / hs;
            var sequence = position / time;
            var t = (int)(position - sequence * time);
            var rowBase = (sequence * heads + h) * time; // att row index of (sequence, h, 0)
            float dq = 0, dk = 0, dv = 0;
            for (var t2 = 0; t2 <= t; t2++)
                dq += dpre[(rowBase + t) * time + t2] * qkv[(sequence * time + t2) * 3 * width + width + channel];
            for (var t1 = t; t1 < time; t1++)
            {
                dk += dpre[(rowBase + t1) * time + t] * qkv[(sequence * time + t1) * 3 * width + channel];
                dv += att[(rowBase + t1) * time + t] * dout[(sequence * time + t1) * width + channel];
            }
            var at = position * 3 * width + channel;
            dqkv[at] = dq;
            dqkv[at + width] = dk;
            dqkv[at + 2 * width] = dv;
        }
    }
}
