using ILGPU;
using ILGPU.Runtime;

namespace Collapse.Kernels.Lm;

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
        return new KernelConfig((int)Math.Min(items, int.MaxValue / 2), size);
    }

    public static Action<KernelConfig, AttentionBackwardArgs> Load(Accelerator accelerator) =>
        accelerator.LoadStreamKernel<AttentionBackwardArgs>(Backward);

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
