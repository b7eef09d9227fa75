using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

// Causal multi-head self-attention, batched over replicates. qkv is [R][B][T][3C] (q, k, v side by
// side, head h on channels h·hs … (h+1)·hs − 1 of each); att is [R][B][NH][T][T], the softmax rows
// kept for backward (0 above the diagonal); out is [R][B][T][C].

/// <summary>Arguments of the attention forward kernels (over the whole prefix, and cached).</summary>
public struct AttentionArgs
{
    /// <summary>q, k, v side by side [R·B][T][3C]; the softmax rows [R·B·NH][T][T]; the output [R·B][T][C].</summary>
    public ArrayView<float> Qkv, Att, Output;
    /// <summary>Cached sampling: keys and values [R·B][blockSize][2C], and the new position.</summary>
    public ArrayView<float> Cache;
    public int Time, Width, Heads, BlockSize, Position;
}

/// <summary>
/// The arguments of <see cref="GroupedAttentionKernels.Backward"/>: causal self-attention's backward,
/// shapes as in <see cref="AttentionKernels"/> (R·B sequences of T positions, C channels, NH heads).
/// </summary>
public struct AttentionBackwardArgs
{
    /// <summary>The forward's q, k, v side by side, [R·B][T][3C].</summary>
    public ArrayView<float> Qkv;

    /// <summary>The forward's softmax rows, [R·B][NH][T][T] (0 above the diagonal).</summary>
    public ArrayView<float> Att;

    /// <summary>d loss/d attention output, [R·B][T][C].</summary>
    public ArrayView<float> Dout;

    /// <summary>d loss/d qkv, [R·B][T][3C] (overwritten).</summary>
    public ArrayView<float> Dqkv;

    /// <summary>
    /// Scratch shaped like <see cref="Att"/>, used only when T &gt; <see cref="GroupedAttentionKernels.MaxTime"/>
    /// (the softmax gradient then lives in global memory instead of shared); may be empty otherwise.
    /// </summary>
    public ArrayView<float> Dpre;

    /// <summary>T, C and NH.</summary>
    public int Time, Width, Heads;
}

static class AttentionKernels
{
    /// <summary>One item per (replicate, b, head, query position t): its att row, then y_t = Σ_t2 att[t2]·v_t2.</summary>
    public static void Forward(Index1D thread, AttentionArgs a, int stride)
    {
        var (qkv, att, output, time, width, heads) = (a.Qkv, a.Att, a.Output, a.Time, a.Width, a.Heads);
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var rows = att.Length / time; // R·B·NH·T
        for (long item = thread; item < rows; item += stride)
        {
            var t = (int)(item % time);
            var h = (int)(item / time % heads);
            var sequence = item / ((long)time * heads); // r·B + b
            var q = (sequence * time + t) * 3 * width + (long)h * hs;
            var rowStart = item * time;
            var max = float.NegativeInfinity;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var k = (sequence * time + t2) * 3 * width + width + (long)h * hs;
                var dot = 0.0f;
                for (var i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i];
                dot *= scale;
                att[rowStart + t2] = dot;
                max = MathF.Max(max, dot);
            }
            var sum = 0.0f;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var e = MathF.Exp(att[rowStart + t2] - max);
                att[rowStart + t2] = e;
                sum += e;
            }
            var inverse = 1.0f / sum;
            for (var t2 = 0; t2 < time; t2++) att[rowStart + t2] = t2 <= t ? att[rowStart + t2] * inverse : 0.0f;
            var y = (sequence * time + t) * width + (long)h * hs;
            for (var i = 0; i < hs; i++)
            {
                var sumY = 0.0f;
                for (var t2 = 0; t2 <= t; t2++) sumY += att[rowStart + t2] * qkv[(sequence * time + t2) * 3 * width + 2 * width + (long)h * hs + i];
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
    public static void ForwardCached(Index1D thread, AttentionArgs a, int stride)
    {
        var (qkv, cache, att, output, position, blockSize, width, heads) = (a.Qkv, a.Cache, a.Att, a.Output, a.Position, a.BlockSize, a.Width, a.Heads);
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
            var rowStart = item * blockSize;
            var max = float.NegativeInfinity;
            for (var t2 = 0; t2 <= position; t2++)
            {
                var k = entries + (long)t2 * 2 * width + (long)h * hs;
                var dot = 0.0f;
                for (var i = 0; i < hs; i++) dot += qkv[q + i] * cache[k + i];
                dot *= scale;
                att[rowStart + t2] = dot;
                max = MathF.Max(max, dot);
            }
            var sum = 0.0f;
            for (var t2 = 0; t2 <= position; t2++)
            {
                var e = MathF.Exp(att[rowStart + t2] - max);
                att[rowStart + t2] = e;
                sum += e;
            }
            var inverse = 1.0f / sum;
            for (var t2 = 0; t2 <= position; t2++) att[rowStart + t2] *= inverse;
            var y = sequence * width + (long)h * hs;
            for (var i = 0; i < hs; i++)
            {
                var sumY = 0.0f;
                for (var t2 = 0; t2 <= position; t2++) sumY += att[rowStart + t2] * cache[entries + (long)t2 * 2 * width + width + (long)h * hs + i];
                output[y + i] = sumY;
            }
        }
    }

    /// <summary>
    /// Backward through the softmax: datt[t2] = dy_t·v_t2, then
    /// dpre[t][t2] = att[t][t2]·(datt[t2] − Σ_j att[t][j]·datt[j])·(1/√hs), written to dpre (same shape
    /// as att). One item per att row.
    /// </summary>
    public static void BackwardScores(Index1D thread, AttentionBackwardArgs a, int stride)
    {
        var (qkv, att, dout, dpre, time, width, heads) = (a.Qkv, a.Att, a.Dout, a.Dpre, a.Time, a.Width, a.Heads);
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var rows = att.Length / time;
        for (long item = thread; item < rows; item += stride)
        {
            var t = (int)(item % time);
            var h = (int)(item / time % heads);
            var sequence = item / ((long)time * heads);
            var dy = (sequence * time + t) * width + (long)h * hs;
            var rowStart = item * time;
            var weighted = 0.0f;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var v = (sequence * time + t2) * 3 * width + 2 * width + (long)h * hs;
                var datt = 0.0f;
                for (var i = 0; i < hs; i++) datt += dout[dy + i] * qkv[v + i];
                dpre[rowStart + t2] = datt;
                weighted += att[rowStart + t2] * datt;
            }
            for (var t2 = 0; t2 < time; t2++) dpre[rowStart + t2] = t2 <= t ? att[rowStart + t2] * (dpre[rowStart + t2] - weighted) * scale : 0.0f;
        }
    }

    /// <summary>
    /// dq_t = Σ_{t2 ≤ t} dpre[t][t2]·k_t2, dk_t = Σ_{t1 ≥ t} dpre[t1][t]·q_t1, dv_t = Σ_{t1 ≥ t} att[t1][t]·dy_t1:
    /// each item owns one channel of one position, so there are no atomics. Overwrites dqkv. Items: R·B·T·C.
    /// </summary>
    public static void BackwardQkv(Index1D thread, AttentionBackwardArgs a, int stride)
    {
        var (qkv, att, dpre, dout, dqkv, time, width, heads) = (a.Qkv, a.Att, a.Dpre, a.Dout, a.Dqkv, a.Time, a.Width, a.Heads);
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

/// <summary>
/// The GPU-shaped attention forward: one group per (sequence, head), its q, k and v staged in shared memory
/// with coalesced loads, then the group's lanes over (t, t2) score pairs, over rows for the softmax, and over
/// (t, i) outputs. The same operations in the same order per number as <see cref="AttentionKernels.Forward"/>.
/// </summary>
static class ShapedAttentionKernels
{
    /// <summary>Shared floats a group holds: T·(3·hs + T) must fit (T = 64 with hs = 32, or the names' T = 16 with any hs ≤ 165).</summary>
    public const int MaxSharedFloats = 8192;

    public static bool Fits(int time, int width, int heads) => (long)time * (3 * (width / heads) + time) <= MaxSharedFloats;

    public static void Forward(AttentionArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxSharedFloats);
        var items = a.Att.Length / ((long)a.Time * a.Time); // R·B·NH
        // Grid-stride over (sequence, head): one each on a GPU, a few groups looping on a CPU device.
        for (var item = (long)Grid.IdxX; item < items; item += Grid.DimX)
        {
            Head(a, item, shared);
            Group.Barrier(); // the next item restages q, k and v
        }
    }

    /// <summary>Item (sequence, head) = (item / NH, item % NH).</summary>
    static void Head(AttentionArgs a, long item, ArrayView<float> shared)
    {
        var (qkv, att, output, time, width, heads) = (a.Qkv, a.Att, a.Output, a.Time, a.Width, a.Heads);
        var hs = width / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var (lane, size) = (Group.IdxX, Group.DimX);
        var h = (int)(item % heads);
        var sequence = item / heads;
        // Shared layout: q [T][hs], k [T][hs], v [T][hs], scores [T][T].
        var (kAt, vAt, sAt) = (time * hs, 2 * time * hs, 3 * time * hs);
        for (var e = lane; e < time * hs; e += size)
        {
            var (t, i) = (e / hs, e % hs);
            var from = (sequence * time + t) * 3 * width + (long)h * hs + i;
            shared[e] = qkv[from];
            shared[kAt + e] = qkv[from + width];
            shared[vAt + e] = qkv[from + 2 * width];
        }
        Group.Barrier();
        for (var e = lane; e < time * time; e += size)
        {
            var (t, t2) = (e / time, e % time);
            if (t2 > t) continue;
            var dot = 0.0f;
            for (var i = 0; i < hs; i++) dot += shared[t * hs + i] * shared[kAt + t2 * hs + i];
            shared[sAt + e] = dot * scale;
        }
        Group.Barrier();
        var rows = (item * time) * time; // att row (sequence, h, 0)
        for (var t = lane; t < time; t += size)
        {
            var row = sAt + t * time;
            var max = float.NegativeInfinity;
            for (var t2 = 0; t2 <= t; t2++) max = MathF.Max(max, shared[row + t2]);
            var sum = 0.0f;
            for (var t2 = 0; t2 <= t; t2++)
            {
                var e = MathF.Exp(shared[row + t2] - max);
                shared[row + t2] = e;
                sum += e;
            }
            var inverse = 1.0f / sum;
            for (var t2 = 0; t2 < time; t2++)
            {
                var value = t2 <= t ? shared[row + t2] * inverse : 0.0f;
                shared[row + t2] = value;
                att[rows + (long)t * time + t2] = value;
            }
        }
        Group.Barrier();
        for (var e = lane; e < time * hs; e += size)
        {
            var (t, i) = (e / hs, e % hs);
            var sumY = 0.0f;
            for (var t2 = 0; t2 <= t; t2++) sumY += shared[sAt + t * time + t2] * shared[vAt + t2 * hs + i];
            output[(sequence * time + t) * width + (long)h * hs + i] = sumY;
        }
    }

    /// <summary>
    /// One group per (sequence, head) with up to as many lanes as a head has outputs (T·hs, at most 256) on a GPU; on CPU
    /// devices <see cref="GroupedRows.GroupSize"/>'s (1 on ILGPU's CPU accelerator, whose barriers are thread switches) and
    /// no more groups than fill the device.
    /// </summary>
    public static KernelConfig ForwardConfig(Accelerator accelerator, in AttentionArgs a)
    {
        var items = a.Att.Length / ((long)a.Time * a.Time);
        var size = GroupedRows.GroupSize(accelerator, Math.Min(256, GroupedRows.CeilingPowerOfTwo((long)a.Time * (a.Width / a.Heads))));
        var groups = Accelerators.LaunchSize.IsGpu(accelerator) ? items : Math.Min(items, GroupedRows.FillingGroups(accelerator, size));
        return new KernelConfig((int)Math.Max(1, groups), size);
    }
}

/// <summary>
/// Attention backward in one launch instead of <see cref="AttentionKernels.BackwardScores"/> +
/// <see cref="AttentionKernels.BackwardQkv"/>: one group per (sequence, head). Phase 1 computes
/// dpre, the softmax backward of the T×T scores, into shared memory: lanes over (t, t2 ≤ t) for
/// datt = dy_t·v_t2, a barrier, then a lane per row t for Σ att·datt and dpre = att·(datt − Σ)·(1/√hs)
/// (0 above the diagonal). Phase 2, after a barrier, lanes over (t, i) for dq, dk, dv of the head's
/// channel i (overwrite). Every number sees the plain kernels' operations in their order, so the
/// results are theirs bit for bit (when the compiler contracts the same multiply-adds in both).
/// </summary>
/// <remarks>
/// T ≤ <see cref="MaxTime"/> keeps dpre in shared memory (MaxTime² floats, 16 KB); a longer T uses
/// <see cref="AttentionBackwardArgs.Dpre"/> (global, shaped like att) with the same phases and barriers.
/// </remarks>
static class GroupedAttentionKernels
{
    /// <summary>The longest sequence whose softmax gradient stays in shared memory.</summary>
    public const int MaxTime = 64;

    public static void Backward(AttentionBackwardArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxTime * MaxTime);
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        var items = a.Dout.Length / ((long)T * C) * heads; // R·B·NH
        for (var item = (long)Grid.IdxX; item < items; item += Grid.DimX)
        {
            if (T <= MaxTime) Head(a, item, shared);
            else Head(a, item, a.Dpre.SubView(item * T * T, (long)T * T));
            Group.Barrier(); // the next item's phase 1 overwrites dpre
        }
    }

    /// <summary>
    /// One group per (sequence, head) of G threads: on a GPU min(256, T·max(T, hs) rounded up to a power of two), 16 on
    /// PoCL, 1 on the ILGPU CPU accelerator (<see cref="GroupedRows.GroupSize"/>); <paramref name="groupSize"/> &gt; 0 instead.
    /// On the ILGPU CPU accelerator one group per multiprocessor, striding over the (sequence, head) items.
    /// </summary>
    public static KernelConfig BackwardConfig(Accelerator accelerator, in AttentionBackwardArgs a, int groupSize = 0)
    {
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        if (T <= 0 || C <= 0 || heads <= 0 || C % heads != 0) throw new ArgumentException("attention shape: T, C > 0 and C a multiple of the heads");
        var items = a.Dout.Length / ((long)T * C) * heads;
        if (T > MaxTime && a.Dpre.Length < a.Att.Length)
            throw new ArgumentException($"T = {T} > {MaxTime}: the grouped attention backward needs Dpre scratch shaped like att");
        var hs = C / heads;
        var size = GroupedRows.GroupSize(accelerator, Math.Min(256, GroupedRows.CeilingPowerOfTwo((long)T * Math.Max(T, hs))), groupSize);
        // On ILGPU's CPU accelerator no more groups than fill it (they stride over the items; see GroupedRows.FillingGroups).
        var groups = accelerator.AcceleratorType == AcceleratorType.CPU ? Math.Min(items, GroupedRows.FillingGroups(accelerator, size)) : items;
        return new KernelConfig((int)Math.Min(groups, int.MaxValue / 2), size);
    }

    public static Action<KernelConfig, AttentionBackwardArgs> Load(Accelerator accelerator) =>
        accelerator.LoadStreamKernel<AttentionBackwardArgs>(Backward).Serialized(accelerator);

    /// <summary>Both phases for item (sequence, head) = (item / NH, item % NH), dpre in <paramref name="dpre"/> (T·T).</summary>
    static void Head(AttentionBackwardArgs a, long item, ArrayView<float> dpre)
    {
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        var hs = C / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var (index, size) = (Group.IdxX, Group.DimX);
        var h = (int)(item % heads);
        var sequence = item / heads;
        var at = item * T * T; // att row (sequence, h, 0)
        var offset = (long)h * hs;

        // datt[t][t2] = dy_t·v_t2 for t2 ≤ t.
        for (var e = index; e < T * T; e += size)
        {
            var t = e / T;
            var t2 = e - t * T;
            if (t2 > t) continue;
            var dy = (sequence * T + t) * C + offset;
            var v = (sequence * T + t2) * 3 * C + 2 * C + offset;
            var datt = 0.0f;
            for (var i = 0; i < hs; i++) datt += a.Dout[dy + i] * a.Qkv[v + i];
            dpre[e] = datt;
        }
        Group.Barrier();

        // dpre[t][t2] = att·(datt − Σ_j att[t][j]·datt[j])·scale, one lane per row.
        for (var t = index; t < T; t += size)
        {
            var row = at + (long)t * T;
            var weighted = 0.0f;
            for (var t2 = 0; t2 <= t; t2++) weighted += a.Att[row + t2] * dpre[t * T + t2];
            for (var t2 = 0; t2 < T; t2++) dpre[t * T + t2] = t2 <= t ? a.Att[row + t2] * (dpre[t * T + t2] - weighted) * scale : 0.0f;
        }
        Group.Barrier();

        // dq_t = Σ_{t2 ≤ t} dpre[t][t2]·k_t2, dk_t = Σ_{t1 ≥ t} dpre[t1][t]·q_t1, dv_t = Σ_{t1 ≥ t} att[t1][t]·dy_t1.
        for (var e = index; e < T * hs; e += size)
        {
            var t = e / hs;
            var channel = (int)offset + (e - t * hs);
            float dq = 0, dk = 0, dv = 0;
            for (var t2 = 0; t2 <= t; t2++)
                dq += dpre[t * T + t2] * a.Qkv[(sequence * T + t2) * 3 * C + C + channel];
            for (var t1 = t; t1 < T; t1++)
            {
                dk += dpre[t1 * T + t] * a.Qkv[(sequence * T + t1) * 3 * C + channel];
                dv += a.Att[at + (long)t1 * T + t] * a.Dout[(sequence * T + t1) * C + channel];
            }
            var position = (sequence * T + t) * 3 * C + channel;
            a.Dqkv[position] = dq;
            a.Dqkv[position + C] = dk;
            a.Dqkv[position + 2 * C] = dv;
        }
    }
}

/// <summary>
/// The shaped attention backward for CPU devices (ILGPU's CPU accelerator, PoCL; see <see cref="BlockedMatMulKernels.Serves"/>):
/// both phases of <see cref="GroupedAttentionKernels"/> in one grid-stride launch, one item per (sequence, head), the
/// softmax gradient in the <see cref="AttentionBackwardArgs.Dpre"/> scratch, which only the item's own thread writes and
/// reads (no groups and no barriers). Its sums are register-blocked: a query row's dots with 4 keys' values at once (the
/// row's dout read once for the 4), and dq, dk, dv 8 channels at once (each softmax-gradient or attention number read once
/// for the 8). Every number sees the plain kernels' operations in their order, so where both are compiled alike the bits
/// are theirs.
/// </summary>
static class BlockedAttentionKernels
{
    /// <summary>Keys a query row's dots take at once.</summary>
    public const int Keys = 4;

    /// <summary>Channels of dq, dk and dv summed at once.</summary>
    public const int Channels = 8;

    /// <summary>Items: R·B·NH (sequence, head) pairs. Needs Dpre shaped like Att.</summary>
    public static long Items(in AttentionBackwardArgs a)
    {
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        if (T <= 0 || C <= 0 || heads <= 0 || C % heads != 0) throw new ArgumentException("attention shape: T, C > 0 and C a multiple of the heads");
        if (a.Dpre.Length < a.Att.Length) throw new ArgumentException("the blocked attention backward needs Dpre scratch shaped like att");
        return a.Dout.Length / ((long)T * C) * heads;
    }

    public static void Backward(Index1D thread, AttentionBackwardArgs a, int stride)
    {
        var items = a.Dout.Length / ((long)a.Time * a.Width) * a.Heads;
        for (long item = thread; item < items; item += stride)
        {
            Scores(a, item);
            Gradients(a, item);
        }
    }

    /// <summary>dpre[t][t2] = att·(datt − Σ_j att[t][j]·datt[j])·(1/√hs), datt[t][t2] = dy_t·v_t2, 0 above the diagonal.</summary>
    static void Scores(in AttentionBackwardArgs a, long item)
    {
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        var hs = C / heads;
        var scale = 1.0f / MathF.Sqrt(hs);
        var sequence = item / heads;
        var offset = (long)(item % heads) * hs;
        var at = item * T * T; // the item's att rows, and its dpre rows
        for (var t = 0; t < T; t++)
        {
            var dy = (sequence * T + t) * C + offset;
            var row = at + (long)t * T;
            for (var t2 = 0; t2 <= t; t2 += Keys)
            {
                var last = Math.Min(Keys, t + 1 - t2) - 1; // keys past it read the last one again (the diagonal's edge)
                var v0 = (sequence * T + t2) * 3 * C + 2 * C + offset;
                var (v1, v2, v3) = (v0 + Math.Min(1, last) * 3L * C, v0 + Math.Min(2, last) * 3L * C, v0 + Math.Min(3, last) * 3L * C);
                float d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                for (var i = 0; i < hs; i++)
                {
                    var x = a.Dout[dy + i];
                    d0 += x * a.Qkv[v0 + i];
                    d1 += x * a.Qkv[v1 + i];
                    d2 += x * a.Qkv[v2 + i];
                    d3 += x * a.Qkv[v3 + i];
                }
                a.Dpre[row + t2] = d0;
                if (last >= 1) a.Dpre[row + t2 + 1] = d1;
                if (last >= 2) a.Dpre[row + t2 + 2] = d2;
                if (last >= 3) a.Dpre[row + t2 + 3] = d3;
            }
            var weighted = 0.0f;
            for (var t2 = 0; t2 <= t; t2++) weighted += a.Att[row + t2] * a.Dpre[row + t2];
            for (var t2 = 0; t2 < T; t2++) a.Dpre[row + t2] = t2 <= t ? a.Att[row + t2] * (a.Dpre[row + t2] - weighted) * scale : 0.0f;
        }
    }

    /// <summary>dq_t = Σ_{t2 ≤ t} dpre[t][t2]·k_t2, dk_t = Σ_{t1 ≥ t} dpre[t1][t]·q_t1, dv_t = Σ_{t1 ≥ t} att[t1][t]·dy_t1 (overwrite).</summary>
    static void Gradients(in AttentionBackwardArgs a, long item)
    {
        var (T, C, heads) = (a.Time, a.Width, a.Heads);
        var hs = C / heads;
        var sequence = item / heads;
        var offset = (int)(item % heads) * hs;
        var at = item * T * T;
        for (var t = 0; t < T; t++)
            for (var i0 = 0; i0 < hs; i0 += Channels)
            {
                var last = Math.Min(Channels, hs - i0) - 1; // channels past it read the last one again (block edge)
                var c0 = offset + i0;
                var (c1, c2, c3) = (c0 + Math.Min(1, last), c0 + Math.Min(2, last), c0 + Math.Min(3, last));
                var (c4, c5, c6, c7) = (c0 + Math.Min(4, last), c0 + Math.Min(5, last), c0 + Math.Min(6, last), c0 + Math.Min(7, last));
                float q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var d = a.Dpre[at + (long)t * T + t2];
                    var k = (sequence * T + t2) * 3 * C + C;
                    q0 += d * a.Qkv[k + c0]; q1 += d * a.Qkv[k + c1]; q2 += d * a.Qkv[k + c2]; q3 += d * a.Qkv[k + c3];
                    q4 += d * a.Qkv[k + c4]; q5 += d * a.Qkv[k + c5]; q6 += d * a.Qkv[k + c6]; q7 += d * a.Qkv[k + c7];
                }
                float k0 = 0, k1 = 0, k2 = 0, k3 = 0, k4 = 0, k5 = 0, k6 = 0, k7 = 0;
                float w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0;
                for (var t1 = t; t1 < T; t1++)
                {
                    var d = a.Dpre[at + (long)t1 * T + t];
                    var p = a.Att[at + (long)t1 * T + t];
                    var q = (sequence * T + t1) * 3 * C;
                    var dy = (sequence * T + t1) * C;
                    k0 += d * a.Qkv[q + c0]; k1 += d * a.Qkv[q + c1]; k2 += d * a.Qkv[q + c2]; k3 += d * a.Qkv[q + c3];
                    k4 += d * a.Qkv[q + c4]; k5 += d * a.Qkv[q + c5]; k6 += d * a.Qkv[q + c6]; k7 += d * a.Qkv[q + c7];
                    w0 += p * a.Dout[dy + c0]; w1 += p * a.Dout[dy + c1]; w2 += p * a.Dout[dy + c2]; w3 += p * a.Dout[dy + c3];
                    w4 += p * a.Dout[dy + c4]; w5 += p * a.Dout[dy + c5]; w6 += p * a.Dout[dy + c6]; w7 += p * a.Dout[dy + c7];
                }
                var position = (sequence * T + t) * 3 * C;
                Store(a.Dqkv, position, C, c0, 0, last, q0, k0, w0);
                Store(a.Dqkv, position, C, c0, 1, last, q1, k1, w1);
                Store(a.Dqkv, position, C, c0, 2, last, q2, k2, w2);
                Store(a.Dqkv, position, C, c0, 3, last, q3, k3, w3);
                Store(a.Dqkv, position, C, c0, 4, last, q4, k4, w4);
                Store(a.Dqkv, position, C, c0, 5, last, q5, k5, w5);
                Store(a.Dqkv, position, C, c0, 6, last, q6, k6, w6);
                Store(a.Dqkv, position, C, c0, 7, last, q7, k7, w7);
            }
    }

    /// <summary>Channel c0 + j's dq, dk and dv at a position's qkv row, when j is a channel of the block.</summary>
    static void Store(ArrayView<float> dqkv, long position, int width, int c0, int j, int last, float dq, float dk, float dv)
    {
        if (j > last) return;
        var at = position + c0 + j;
        dqkv[at] = dq;
        dqkv[at + width] = dk;
        dqkv[at + 2 * width] = dv;
    }
}

/// <summary>Attention on the CPU path: one sequence per call (and, for sampling, one (sequence, head) of the cache).</summary>
static unsafe class AttentionCpu
{
    /// <summary>Floats of scratch <see cref="Forward"/> and <see cref="Backward"/> need: a head's keys (or values) transposed, and one row.</summary>
    public static long ScratchFloats(int time, int width, int heads) => (long)(width / heads + 1) * Padded(time);

    /// <summary>Positions rounded up to the eight lanes the score rows are computed in.</summary>
    static int Padded(int time) => (time + 7) & ~7;

    /// <summary>
    /// One sequence (qkv [T][3C], att [NH][T][T], out [T][C]); see AttentionKernels.Forward. Vectorized across
    /// key positions: a head's keys are transposed into scratch ([hs][T], padded to 8), so a query's scores
    /// for eight positions are hs broadcast FMAs, without a horizontal sum per dot product; the softmax runs on
    /// those vectors (<see cref="GeluCpu.Exp"/>, lanes above the diagonal masked to 0), and y = Σ att·v across
    /// the head's channels. Same operations as the reference up to summation order and exp's ulp.
    /// </summary>
    public static void Forward(float* qkv, float* att, float* output, int time, int width, int heads, float* scratch)
    {
        var hs = width / heads;
        var padded = Padded(time);
        float* keys = scratch, row = scratch + (long)hs * padded;
        var stride = 3L * width;
        for (var h = 0; h < heads; h++)
        {
            Transpose(qkv + width + h * hs, stride, time, hs, keys, padded);
            for (var t = 0; t < time; t++)
            {
                AttendRow(qkv + t * stride + h * hs, keys, padded, t, hs, row, qkv + 2 * width + h * hs, stride, output + (long)t * width + h * hs);
                var a = att + ((long)h * time + t) * time;
                for (var t2 = 0; t2 <= t; t2++) a[t2] = row[t2];
                for (var t2 = t + 1; t2 < time; t2++) a[t2] = 0.0f;
            }
        }
    }

    /// <summary>
    /// Query q's softmax row against keys 0 … t (transposed in <paramref name="keys"/>, [hs][padded]) into
    /// <paramref name="row"/> (its lanes up to the next multiple of 8, 0 past t), and y = Σ_t2 row[t2]·v_t2 with v_t2 at
    /// values + t2·valueStride. The forward and the cached sampler both call it, so a cached position gets the full
    /// forward's numbers bit for bit (the sampler's tokens are tested equal).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AttendRow(float* q, float* keys, int padded, int t, int hs, float* row, float* values, long valueStride, float* y)
    {
        var scale = Vector256.Create(1.0f / MathF.Sqrt(hs));
        var chunks = (t + 8) >> 3; // the chunks holding positions 0 … t
        var max = Vector256.Create(float.NegativeInfinity);
        for (var c = 0; c < chunks; c++)
        {
            var s = Vector256<float>.Zero;
            for (var i = 0; i < hs; i++) s = Fma.MultiplyAdd(Vector256.Create(q[i]), Avx.LoadVector256(keys + (long)i * padded + 8 * c), s);
            s = Avx.BlendVariable(Vector256.Create(float.NegativeInfinity), s * scale, Causal(8 * c, t));
            s.Store(row + 8 * c);
            max = Avx.Max(max, s);
        }
        var m = Vector256.Create(HorizontalMax(max));
        var sum = Vector256<float>.Zero;
        for (var c = 0; c < chunks; c++)
        {
            var e = Avx.And(GeluCpu.Exp(Avx.LoadVector256(row + 8 * c) - m), Causal(8 * c, t));
            e.Store(row + 8 * c);
            sum += e;
        }
        var inverse = Vector256.Create(1.0f / Vector256.Sum(sum));
        for (var c = 0; c < chunks; c++) (Avx.LoadVector256(row + 8 * c) * inverse).Store(row + 8 * c);
        var i0 = 0;
        for (; i0 + 8 <= hs; i0 += 8)
        {
            var acc = Vector256<float>.Zero;
            for (var t2 = 0; t2 <= t; t2++) acc = Fma.MultiplyAdd(Vector256.Create(row[t2]), Avx.LoadVector256(values + t2 * valueStride + i0), acc);
            acc.Store(y + i0);
        }
        for (; i0 < hs; i0++)
        {
            var acc = 0.0f;
            for (var t2 = 0; t2 <= t; t2++) acc = MathF.FusedMultiplyAdd(row[t2], values[t2 * valueStride + i0], acc);
            y[i0] = acc;
        }
    }

    /// <summary>
    /// One sequence's dqkv (overwritten) from dout [T][C], as the reference computes it: per query row, datt
    /// (eight key positions at a time against the head's values transposed into scratch, as in
    /// <see cref="Forward"/>), the softmax backward, then the contributions to dq, dk and dv across the head's channels.
    /// </summary>
    public static void Backward(float* qkv, float* att, float* dout, float* dqkv, int time, int width, int heads, float* scratch)
    {
        var hs = width / heads;
        var scale = Vector256.Create(1.0f / MathF.Sqrt(hs));
        var padded = Padded(time);
        float* values = scratch, datt = scratch + (long)hs * padded;
        var stride = 3L * width;
        new Span<float>(dqkv, time * 3 * width).Clear();
        for (var h = 0; h < heads; h++)
        {
            Transpose(qkv + 2 * width + h * hs, stride, time, hs, values, padded);
            for (var t = 0; t < time; t++)
            {
                var a = att + ((long)h * time + t) * time;
                var dy = dout + (long)t * width + h * hs;
                var chunks = (t + 8) >> 3;
                var weighted = Vector256<float>.Zero;
                for (var c = 0; c < chunks; c++)
                {
                    var d = Vector256<float>.Zero;
                    for (var i = 0; i < hs; i++) d = Fma.MultiplyAdd(Vector256.Create(dy[i]), Avx.LoadVector256(values + (long)i * padded + 8 * c), d);
                    d.Store(datt + 8 * c);
                    // Masked load: the row ends at T, which need not be a multiple of 8 (lanes past t read nothing).
                    weighted = Fma.MultiplyAdd(Avx.MaskLoad(a + 8 * c, Causal(8 * c, t)), d, weighted);
                }
                var w = Vector256.Create(Vector256.Sum(weighted));
                for (var c = 0; c < chunks; c++)
                {
                    var p = Avx.MaskLoad(a + 8 * c, Causal(8 * c, t));
                    (p * (Avx.LoadVector256(datt + 8 * c) - w) * scale).Store(datt + 8 * c); // dpre, 0 past t
                }
                var q = qkv + t * stride + h * hs;
                var dq = dqkv + t * stride + h * hs;
                for (var t2 = 0; t2 <= t; t2++)
                {
                    var dk = dqkv + t2 * stride + width + h * hs;
                    var dv = dqkv + t2 * stride + 2 * width + h * hs;
                    AddScaled(dv, dy, a[t2], hs);
                    AddScaled(dk, q, datt[t2], hs);
                }
                // dq += Σ_t2 dpre[t2]·k_t2, kept in registers across t2 (the same FMAs in the same order as one AddScaled per t2,
                // without a store and reload of dq between them).
                var i0 = 0;
                for (; i0 + 8 <= hs; i0 += 8)
                {
                    var acc = Avx.LoadVector256(dq + i0);
                    for (var t2 = 0; t2 <= t; t2++) acc = Fma.MultiplyAdd(Vector256.Create(datt[t2]), Avx.LoadVector256(qkv + t2 * stride + width + h * hs + i0), acc);
                    acc.Store(dq + i0);
                }
                for (; i0 < hs; i0++)
                    for (var t2 = 0; t2 <= t; t2++) dq[i0] += datt[t2] * qkv[t2 * stride + width + h * hs + i0];
            }
        }
    }

    /// <summary>dst[i] += s·src[i], i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddScaled(float* dst, float* src, float s, int n)
    {
        var i = 0;
        var v = Vector256.Create(s);
        for (; i + 8 <= n; i += 8) Fma.MultiplyAdd(v, Avx.LoadVector256(src + i), Avx.LoadVector256(dst + i)).Store(dst + i);
        for (; i < n; i++) dst[i] += s * src[i];
    }

    /// <summary>to[i][t] = from[t·stride + i] for t &lt; time, i &lt; hs; 0 for time ≤ t &lt; padded.</summary>
    static void Transpose(float* from, long stride, int time, int hs, float* to, int padded)
    {
        for (var i = 0; i < hs; i++)
        {
            var line = to + (long)i * padded;
            for (var t = 0; t < time; t++) line[t] = from[t * stride + i];
            for (var t = time; t < padded; t++) line[t] = 0.0f;
        }
    }

    /// <summary>All-ones lanes for key positions first … first + 7 that are ≤ t (causal), zeros above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Causal(int first, int t) =>
        Avx2.CompareGreaterThan(Vector256.Create(t + 1), Vector256.Create(first) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float HorizontalMax(Vector256<float> v)
    {
        var m = Sse.Max(v.GetLower(), v.GetUpper());
        m = Sse.Max(m, Sse.Shuffle(m, m, 0b01_00_11_10));
        m = Sse.Max(m, Sse.Shuffle(m, m, 0b10_11_00_01));
        return m.ToScalar();
    }

    /// <summary>
    /// <see cref="AttentionKernels.ForwardCached"/>'s item on the CPU path: the new position's key and value into the
    /// cache, the cached keys 0 … position transposed into <paramref name="scratch"/> (<see cref="ScratchFloats"/> of
    /// the block size), then <see cref="AttendRow"/>, the full forward's arithmetic for that row.
    /// </summary>
    public static void ForwardCached(float* qkv, float* cache, float* att, float* output, long item, int position, int blockSize, int width, int heads,
        float* scratch)
    {
        var hs = width / heads;
        var h = (int)(item % heads);
        var sequence = item / heads;
        var q = qkv + sequence * 3 * width + (long)h * hs;
        var entries = cache + sequence * blockSize * 2 * width;
        var here = entries + (long)position * 2 * width + (long)h * hs;
        for (var i = 0; i < hs; i++)
        {
            here[i] = q[width + i];
            here[width + i] = q[2 * width + i];
        }
        var padded = Padded(position + 1);
        float* keys = scratch, row = scratch + (long)hs * padded;
        Transpose(entries + (long)h * hs, 2L * width, position + 1, hs, keys, padded);
        AttendRow(q, keys, padded, position, hs, row, entries + width + (long)h * hs, 2L * width, output + sequence * width + (long)h * hs);
        var a = att + item * blockSize;
        for (var t2 = 0; t2 <= position; t2++) a[t2] = row[t2];
    }
}

public sealed unsafe partial class LmKernels
{
    /// <summary>att [R·B·NH·T·T] and output [R][B·T][C] from qkv [R][B·T][3C].</summary>
    public void AttentionForward(ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> output, int time, int width, int heads) =>
        attentionForwardOp(new AttentionArgs { Qkv = qkv, Att = att, Output = output, Time = time, Width = width, Heads = heads });

    /// <summary>dqkv (overwrites) from dout [R][B·T][C]; dpre is scratch shaped like att.</summary>
    public void AttentionBackward(ArrayView<float> qkv, ArrayView<float> att, ArrayView<float> dout, ArrayView<float> dpre,
        ArrayView<float> dqkv, int time, int width, int heads) =>
        attentionBackwardOp(new AttentionBackwardArgs { Qkv = qkv, Att = att, Dout = dout, Dpre = dpre, Dqkv = dqkv, Time = time, Width = width, Heads = heads });

    /// <summary>One new position's attention against the key/value cache [R·B][blockSize][2C] (which it extends); see <see cref="AttentionKernels.ForwardCached"/>.</summary>
    public void AttentionForwardCached(ArrayView<float> qkv, ArrayView<float> cache, ArrayView<float> att, ArrayView<float> output,
        int position, int blockSize, int width, int heads) =>
        attentionForwardCachedOp(new AttentionArgs
        {
            Qkv = qkv, Cache = cache, Att = att, Output = output, Position = position, BlockSize = blockSize, Width = width, Heads = heads,
        });

    void AttentionForwardCpu(AttentionArgs a)
    {
        float* q = Ptr(a.Qkv), att = Ptr(a.Att), y = Ptr(a.Output);
        var (time, width, heads) = (a.Time, a.Width, a.Heads);
        var sequences = a.Output.Length / ((long)time * width);
        HostRanges(sequences, a.Att.Length * (width / heads), (first, n) =>
        {
            var scratch = ThreadScratch.FloatPointer(AttentionCpu.ScratchFloats(time, width, heads));
            for (var s = first; s < first + n; s++)
                AttentionCpu.Forward(q + s * time * 3 * width, att + s * heads * time * time, y + s * time * width, time, width, heads, scratch);
        });
    }

    void AttentionForwardPlain(AttentionArgs a) => Launch(attentionForward, a.Att.Length / a.Time, a);

    /// <summary>
    /// The grouped kernel on a GPU; the plain one on CPU devices, where one thread per query row vectorizes across rows and
    /// ran faster (PoCL, makemore shape, R = 8: 1.5 ms plain against 2.0–4.6 ms grouped at every group size and grid tried),
    /// and where a head's q, k, v and scores do not fit in shared memory.
    /// </summary>
    void AttentionForwardShaped(AttentionArgs a)
    {
        if (LaunchSize.IsGpu(accelerator) && ShapedAttentionKernels.Fits(a.Time, a.Width, a.Heads))
            shapedAttentionForward(ShapedAttentionKernels.ForwardConfig(accelerator, a), a);
        else AttentionForwardPlain(a);
    }

    void AttentionBackwardCpu(AttentionBackwardArgs a)
    {
        float* q = Ptr(a.Qkv), att = Ptr(a.Att), dy = Ptr(a.Dout), dq = Ptr(a.Dqkv);
        var (time, width, heads) = (a.Time, a.Width, a.Heads);
        var sequences = a.Dout.Length / ((long)time * width);
        HostRanges(sequences, 2 * a.Att.Length * (width / heads), (first, n) =>
        {
            var scratch = ThreadScratch.FloatPointer(AttentionCpu.ScratchFloats(time, width, heads));
            for (var s = first; s < first + n; s++)
                AttentionCpu.Backward(q + s * time * 3 * width, att + s * heads * time * time, dy + s * time * width, dq + s * time * 3 * width,
                    time, width, heads, scratch);
        });
    }

    void AttentionBackwardPlain(AttentionBackwardArgs a)
    {
        Launch(attentionBackwardScores, a.Att.Length / a.Time, a);
        Launch(attentionBackwardQkv, a.Dout.Length, a);
    }

    void AttentionBackwardShaped(AttentionBackwardArgs a)
    {
        if (blockedAttentionBackward is not null) Launch(blockedAttentionBackward, BlockedAttentionKernels.Items(a), a);
        else groupedAttentionBackward(GroupedAttentionKernels.BackwardConfig(accelerator, a), a);
    }

    void AttentionForwardCachedCpu(AttentionArgs a)
    {
        float* q = Ptr(a.Qkv), kv = Ptr(a.Cache), att = Ptr(a.Att), y = Ptr(a.Output);
        var (position, blockSize, width, heads) = (a.Position, a.BlockSize, a.Width, a.Heads);
        var items = a.Output.Length / (width / heads);
        HostRanges(items, items * (position + 1) * (width / heads) * 3, (first, n) =>
        {
            var scratch = ThreadScratch.FloatPointer(AttentionCpu.ScratchFloats(blockSize, width, heads));
            for (var item = first; item < first + n; item++) AttentionCpu.ForwardCached(q, kv, att, y, item, position, blockSize, width, heads, scratch);
        });
    }

    void AttentionForwardCachedPlain(AttentionArgs a) => Launch(attentionForwardCached, a.Output.Length / (a.Width / a.Heads), a);
}
