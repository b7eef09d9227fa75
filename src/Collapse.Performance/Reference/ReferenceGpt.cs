using Collapse.Kernels.Lm;

namespace Collapse.Performance.Reference;

/// <summary>
/// A plain float64 character GPT, written for clarity, not speed (makemore's Transformer; the
/// per-operation organisation of llm.c's train_gpt2.c): one function per operation, forward and
/// backward, then the model that chains them, AdamW and gradient clipping. Parameters use the
/// kernels' <see cref="GptLayout"/> so the two can be compared number by number.
///
/// Backward functions ACCUMULATE (+=) into their gradient outputs, as llm.c's do; the model zeroes
/// the gradients first. Shapes: N rows (= B·T positions), C channels, OC output channels.
/// </summary>
public static class ReferenceGptOps
{
    // ---------------------------------------------------------------- embeddings

    /// <summary>out[b,t,:] = wte[token[b,t],:] + wpe[t,:].</summary>
    public static void EncoderForward(double[] output, int[] tokens, ReadOnlySpan<double> wte, ReadOnlySpan<double> wpe, int B, int T, int C)
    {
        for (var b = 0; b < B; b++)
            for (var t = 0; t < T; t++)
                for (var c = 0; c < C; c++)
                    output[(b * T + t) * C + c] = wte[tokens[b * T + t] * C + c] + wpe[t * C + c];
    }

    public static void EncoderBackward(Span<double> dwte, Span<double> dwpe, double[] dout, int[] tokens, int B, int T, int C)
    {
        for (var b = 0; b < B; b++)
            for (var t = 0; t < T; t++)
                for (var c = 0; c < C; c++)
                {
                    dwte[tokens[b * T + t] * C + c] += dout[(b * T + t) * C + c];
                    dwpe[t * C + c] += dout[(b * T + t) * C + c];
                }
    }

    // ---------------------------------------------------------------- layer norm

    public const double LayerNormEpsilon = 1e-5; // PyTorch's default

    /// <summary>out = (x − mean)/sqrt(var + eps)·w + b per row, with the biased variance; keeps mean and 1/std for backward.</summary>
    public static void LayerNormForward(double[] output, double[] mean, double[] rstd, double[] input,
        ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, int N, int C)
    {
        for (var n = 0; n < N; n++)
        {
            var m = 0.0;
            for (var c = 0; c < C; c++) m += input[n * C + c];
            m /= C;
            var variance = 0.0;
            for (var c = 0; c < C; c++) variance += (input[n * C + c] - m) * (input[n * C + c] - m);
            variance /= C;
            var s = 1.0 / Math.Sqrt(variance + LayerNormEpsilon);
            for (var c = 0; c < C; c++)
                output[n * C + c] = (input[n * C + c] - m) * s * weight[c] + bias[c];
            mean[n] = m;
            rstd[n] = s;
        }
    }

    /// <summary>
    /// With x̂ = (x − mean)·rstd and g = dout·w: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
    /// dw += dout·x̂, db += dout.
    /// </summary>
    public static void LayerNormBackward(double[] dinput, Span<double> dweight, Span<double> dbias, double[] dout, double[] input,
        ReadOnlySpan<double> weight, double[] mean, double[] rstd, int N, int C)
    {
        for (var n = 0; n < N; n++)
        {
            double meanG = 0, meanGXhat = 0;
            for (var c = 0; c < C; c++)
            {
                var xhat = (input[n * C + c] - mean[n]) * rstd[n];
                var g = dout[n * C + c] * weight[c];
                meanG += g;
                meanGXhat += g * xhat;
            }
            meanG /= C;
            meanGXhat /= C;
            for (var c = 0; c < C; c++)
            {
                var xhat = (input[n * C + c] - mean[n]) * rstd[n];
                var g = dout[n * C + c] * weight[c];
                dinput[n * C + c] += rstd[n] * (g - meanG - xhat * meanGXhat);
                dweight[c] += dout[n * C + c] * xhat;
                dbias[c] += dout[n * C + c];
            }
        }
    }

    // ---------------------------------------------------------------- matmul (nn.Linear)

    /// <summary>out[n,o] = Σ_c in[n,c]·w[o,c] + bias[o]; an empty bias means none.</summary>
    public static void MatMulForward(double[] output, double[] input, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, int N, int C, int OC)
    {
        for (var n = 0; n < N; n++)
            for (var o = 0; o < OC; o++)
            {
                var sum = bias.IsEmpty ? 0.0 : bias[o];
                for (var c = 0; c < C; c++) sum += input[n * C + c] * weight[o * C + c];
                output[n * OC + o] = sum;
            }
    }

    public static void MatMulBackward(double[] dinput, Span<double> dweight, Span<double> dbias, double[] dout, double[] input,
        ReadOnlySpan<double> weight, int N, int C, int OC)
    {
        for (var n = 0; n < N; n++)
            for (var o = 0; o < OC; o++)
            {
                var d = dout[n * OC + o];
                for (var c = 0; c < C; c++)
                {
                    dinput[n * C + c] += d * weight[o * C + c];
                    dweight[o * C + c] += d * input[n * C + c];
                }
                if (!dbias.IsEmpty) dbias[o] += d;
            }
    }

    // ---------------------------------------------------------------- causal self-attention

    /// <summary>
    /// qkv[b,t,:] holds q, k, v side by side (3C); head h uses channels h·hs … (h+1)·hs − 1 of each.
    /// att[b,h,t,t2] = softmax over t2 ≤ t of q_t·k_t2/√hs (0 above the diagonal); out[b,t,h·hs + i] = Σ_t2 att·v_t2.
    /// </summary>
    public static void AttentionForward(double[] output, double[] att, double[] qkv, int B, int T, int C, int NH)
    {
        var hs = C / NH;
        var scale = 1.0 / Math.Sqrt(hs);
        for (var b = 0; b < B; b++)
            for (var h = 0; h < NH; h++)
                for (var t = 0; t < T; t++)
                {
                    var row = ((b * NH + h) * T + t) * T;
                    var max = double.NegativeInfinity;
                    for (var t2 = 0; t2 <= t; t2++)
                    {
                        var dot = 0.0;
                        for (var i = 0; i < hs; i++)
                            dot += qkv[(b * T + t) * 3 * C + h * hs + i] * qkv[(b * T + t2) * 3 * C + C + h * hs + i];
                        att[row + t2] = dot * scale;
                        max = Math.Max(max, att[row + t2]);
                    }
                    var sum = 0.0;
                    for (var t2 = 0; t2 <= t; t2++) sum += att[row + t2] = Math.Exp(att[row + t2] - max);
                    for (var t2 = 0; t2 < T; t2++) att[row + t2] = t2 <= t ? att[row + t2] / sum : 0.0;
                    for (var i = 0; i < hs; i++)
                    {
                        var y = 0.0;
                        for (var t2 = 0; t2 <= t; t2++) y += att[row + t2] * qkv[(b * T + t2) * 3 * C + 2 * C + h * hs + i];
                        output[(b * T + t) * C + h * hs + i] = y;
                    }
                }
    }

    /// <summary>Backward through y = att·v, the softmax (datt → dpreatt) and the scaled dot products.</summary>
    public static void AttentionBackward(double[] dqkv, double[] dout, double[] qkv, double[] att, int B, int T, int C, int NH)
    {
        var hs = C / NH;
        var scale = 1.0 / Math.Sqrt(hs);
        var datt = new double[T];
        for (var b = 0; b < B; b++)
            for (var h = 0; h < NH; h++)
                for (var t = 0; t < T; t++)
                {
                    var row = ((b * NH + h) * T + t) * T;
                    int Q(int tt, int i) => (b * T + tt) * 3 * C + h * hs + i;
                    // y_t = Σ_t2 att[t,t2]·v_t2
                    for (var t2 = 0; t2 <= t; t2++)
                    {
                        datt[t2] = 0;
                        for (var i = 0; i < hs; i++)
                        {
                            var dy = dout[(b * T + t) * C + h * hs + i];
                            datt[t2] += dy * qkv[Q(t2, i) + 2 * C];
                            dqkv[Q(t2, i) + 2 * C] += att[row + t2] * dy;
                        }
                    }
                    // softmax: dpre[t2] = att[t2]·(datt[t2] − Σ_j att[j]·datt[j])
                    var weighted = 0.0;
                    for (var t2 = 0; t2 <= t; t2++) weighted += att[row + t2] * datt[t2];
                    for (var t2 = 0; t2 <= t; t2++)
                    {
                        var dpre = att[row + t2] * (datt[t2] - weighted) * scale;
                        for (var i = 0; i < hs; i++)
                        {
                            dqkv[Q(t, i)] += dpre * qkv[Q(t2, i) + C];
                            dqkv[Q(t2, i) + C] += dpre * qkv[Q(t, i)];
                        }
                    }
                }
    }

    // ---------------------------------------------------------------- GELU (tanh approximation)

    static readonly double GeluScale = Math.Sqrt(2.0 / Math.PI);

    /// <summary>GPT-2's (and makemore's NewGELU) 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static double Gelu(double x) => 0.5 * x * (1.0 + Math.Tanh(GeluScale * (x + 0.044715 * x * x * x)));

    public static double GeluDerivative(double x)
    {
        var u = GeluScale * (x + 0.044715 * x * x * x);
        var tanh = Math.Tanh(u);
        return 0.5 * (1.0 + tanh) + 0.5 * x * (1.0 - tanh * tanh) * GeluScale * (1.0 + 3.0 * 0.044715 * x * x);
    }

    // ---------------------------------------------------------------- softmax cross-entropy

    /// <summary>Target value that is not predicted (makemore pads targets with −1, torch's ignore_index).</summary>
    public const int Ignore = -1;

    /// <summary>
    /// probs = softmax(logits) per row; returns (Σ −log p[target], count) over rows whose target is
    /// not <see cref="Ignore"/>. The loss is their ratio, torch's mean with ignore_index.
    /// </summary>
    public static (double Sum, int Count) CrossEntropyForward(double[] probs, double[] logits, int[] targets, int N, int V)
    {
        double sum = 0;
        var count = 0;
        for (var n = 0; n < N; n++)
        {
            var max = double.NegativeInfinity;
            for (var v = 0; v < V; v++) max = Math.Max(max, logits[n * V + v]);
            var z = 0.0;
            for (var v = 0; v < V; v++) z += probs[n * V + v] = Math.Exp(logits[n * V + v] - max);
            for (var v = 0; v < V; v++) probs[n * V + v] /= z;
            if (targets[n] == Ignore) continue;
            sum -= Math.Log(probs[n * V + targets[n]]);
            count++;
        }
        return (sum, count);
    }

    /// <summary>d(mean loss)/dlogits = (p − onehot(target))/count on predicted rows, 0 on ignored rows.</summary>
    public static void CrossEntropyBackward(double[] dlogits, double[] probs, int[] targets, int count, int N, int V)
    {
        for (var n = 0; n < N; n++)
        {
            if (targets[n] == Ignore) continue;
            for (var v = 0; v < V; v++)
                dlogits[n * V + v] += (probs[n * V + v] - (v == targets[n] ? 1.0 : 0.0)) / count;
        }
    }

    // ---------------------------------------------------------------- optimizer

    /// <summary>
    /// torch.optim.AdamW, one step (step counts from 1; lr as warm-up sets it for that step): decoupled decay p −= lr·wd·p, then
    /// p −= lr·m̂/(√v̂ + eps) with bias-corrected moments.
    /// </summary>
    public static void AdamW(double[] parameters, double[] gradients, double[] m, double[] v, int step, GptTraining settings)
    {
        var (lr, b1, b2) = (settings.LearningRateAt(step), settings.Beta1, settings.Beta2);
        for (var i = 0; i < parameters.Length; i++)
        {
            var g = gradients[i];
            parameters[i] -= lr * settings.WeightDecay * parameters[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            var mHat = m[i] / (1 - Math.Pow(b1, step));
            var vHat = v[i] / (1 - Math.Pow(b2, step));
            parameters[i] -= lr * mHat / (Math.Sqrt(vHat) + settings.Epsilon);
        }
    }

    /// <summary>torch's clip_grad_norm_: when ‖g‖ > max, g ×= max/(‖g‖ + 1e-6). Returns ‖g‖ before clipping.</summary>
    public static double ClipGradientNorm(double[] gradients, double maxNorm)
    {
        var norm = Math.Sqrt(gradients.Sum(g => g * g));
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
            for (var i = 0; i < gradients.Length; i++) gradients[i] *= coefficient;
        return norm;
    }
}

/// <summary>
/// The whole model in float64: forward (keeping every activation), backward, and a training step.
/// One replicate; inputs and targets are [B][T] (targets −1 where nothing is predicted).
/// </summary>
public sealed class ReferenceGpt
{
    public GptConfig Config { get; }
    public GptLayout Layout { get; }
    public double[] Parameters { get; }
    public double[] Gradients { get; }
    readonly double[] m, v;
    int step;

    public ReferenceGpt(GptConfig config, double[] parameters)
    {
        Config = config;
        Layout = new GptLayout(config);
        if (parameters.Length != Layout.Count) throw new ArgumentException($"expected {Layout.Count} parameters");
        Parameters = parameters;
        Gradients = new double[Layout.Count];
        m = new double[Layout.Count];
        v = new double[Layout.Count];
    }

    sealed class BlockActivations(int N, int C, int B, int NH, int T)
    {
        public double[] Input = new double[N * C], Ln1 = new double[N * C], Ln1Mean = new double[N], Ln1Rstd = new double[N];
        public double[] Qkv = new double[N * 3 * C], Att = new double[B * NH * T * T], AttY = new double[N * C], AttProj = new double[N * C];
        public double[] Residual2 = new double[N * C], Ln2 = new double[N * C], Ln2Mean = new double[N], Ln2Rstd = new double[N];
        public double[] Fc = new double[N * 4 * C], FcGelu = new double[N * 4 * C], FcProj = new double[N * C], Output = new double[N * C];
    }

    // What forward keeps for backward.
    int B, T;
    int[] inputs = [], targets = [];
    BlockActivations[] blocks = [];
    double[] encoded = [], lnf = [], lnfMean = [], lnfRstd = [], logits = [], probs = [];
    int predicted;

    ReadOnlySpan<double> P(long offset, long length) => Parameters.AsSpan((int)offset, (int)length);
    Span<double> G(long offset, long length) => Gradients.AsSpan((int)offset, (int)length);

    /// <summary>Logits [B][T][V] of the last forward.</summary>
    public double[] Logits => logits;

    /// <summary>Softmax probabilities [B][T][V] of the last forward.</summary>
    public double[] Probabilities => probs;

    /// <summary>Mean cross-entropy over predicted positions (NaN when none is predicted).</summary>
    public double Forward(int[] inputs, int[] targets, int B, int T)
    {
        var (C, V, NH) = (Config.Width, Config.Vocab, Config.Heads);
        var N = B * T;
        (this.B, this.T, this.inputs, this.targets) = (B, T, inputs, targets);
        encoded = new double[N * C];
        ReferenceGptOps.EncoderForward(encoded, inputs, P(Layout.TokenEmbedding, V * C), P(Layout.PositionEmbedding, Config.BlockSize * C), B, T, C);
        blocks = new BlockActivations[Config.Layers];
        var x = encoded;
        for (var l = 0; l < Config.Layers; l++)
        {
            var o = Layout.Block(l);
            var a = blocks[l] = new BlockActivations(N, C, B, NH, T);
            Array.Copy(x, a.Input, x.Length);
            ReferenceGptOps.LayerNormForward(a.Ln1, a.Ln1Mean, a.Ln1Rstd, a.Input, P(o.Norm1Weight, C), P(o.Norm1Bias, C), N, C);
            ReferenceGptOps.MatMulForward(a.Qkv, a.Ln1, P(o.QkvWeight, 3 * C * C), P(o.QkvBias, 3 * C), N, C, 3 * C);
            ReferenceGptOps.AttentionForward(a.AttY, a.Att, a.Qkv, B, T, C, NH);
            ReferenceGptOps.MatMulForward(a.AttProj, a.AttY, P(o.AttentionProjWeight, C * C), P(o.AttentionProjBias, C), N, C, C);
            for (var i = 0; i < N * C; i++) a.Residual2[i] = a.Input[i] + a.AttProj[i];
            ReferenceGptOps.LayerNormForward(a.Ln2, a.Ln2Mean, a.Ln2Rstd, a.Residual2, P(o.Norm2Weight, C), P(o.Norm2Bias, C), N, C);
            ReferenceGptOps.MatMulForward(a.Fc, a.Ln2, P(o.FcWeight, 4 * C * C), P(o.FcBias, 4 * C), N, C, 4 * C);
            for (var i = 0; i < a.Fc.Length; i++) a.FcGelu[i] = ReferenceGptOps.Gelu(a.Fc[i]);
            ReferenceGptOps.MatMulForward(a.FcProj, a.FcGelu, P(o.FcProjWeight, 4 * C * C), P(o.FcProjBias, C), N, 4 * C, C);
            for (var i = 0; i < N * C; i++) a.Output[i] = a.Residual2[i] + a.FcProj[i];
            x = a.Output;
        }
        lnf = new double[N * C];
        lnfMean = new double[N];
        lnfRstd = new double[N];
        ReferenceGptOps.LayerNormForward(lnf, lnfMean, lnfRstd, x, P(Layout.FinalNormWeight, C), P(Layout.FinalNormBias, C), N, C);
        logits = new double[N * V];
        ReferenceGptOps.MatMulForward(logits, lnf, P(Layout.Head, V * C), [], N, C, V);
        probs = new double[N * V];
        var (sum, count) = ReferenceGptOps.CrossEntropyForward(probs, logits, targets, N, V);
        predicted = count;
        return sum / count;
    }

    /// <summary>Gradients of the last forward's mean loss, into <see cref="Gradients"/> (overwritten).</summary>
    public void Backward()
    {
        var (C, V, NH) = (Config.Width, Config.Vocab, Config.Heads);
        var N = B * T;
        Array.Clear(Gradients);
        var dlogits = new double[N * V];
        ReferenceGptOps.CrossEntropyBackward(dlogits, probs, targets, predicted, N, V);
        var dlnf = new double[N * C];
        ReferenceGptOps.MatMulBackward(dlnf, G(Layout.Head, V * C), [], dlogits, lnf, P(Layout.Head, V * C), N, C, V);
        // dx: the gradient flowing down the residual stream.
        var dx = new double[N * C];
        var top = blocks[^1].Output;
        ReferenceGptOps.LayerNormBackward(dx, G(Layout.FinalNormWeight, C), G(Layout.FinalNormBias, C), dlnf, top,
            P(Layout.FinalNormWeight, C), lnfMean, lnfRstd, N, C);
        for (var l = Config.Layers - 1; l >= 0; l--)
        {
            var o = Layout.Block(l);
            var a = blocks[l];
            // Output = Residual2 + FcProj(Gelu(Fc(Ln2(Residual2)))): dResidual2 = dx + the MLP branch's.
            var dFcGelu = new double[N * 4 * C];
            ReferenceGptOps.MatMulBackward(dFcGelu, G(o.FcProjWeight, 4 * C * C), G(o.FcProjBias, C), dx, a.FcGelu, P(o.FcProjWeight, 4 * C * C), N, 4 * C, C);
            var dFc = new double[N * 4 * C];
            for (var i = 0; i < dFc.Length; i++) dFc[i] = ReferenceGptOps.GeluDerivative(a.Fc[i]) * dFcGelu[i];
            var dLn2 = new double[N * C];
            ReferenceGptOps.MatMulBackward(dLn2, G(o.FcWeight, 4 * C * C), G(o.FcBias, 4 * C), dFc, a.Ln2, P(o.FcWeight, 4 * C * C), N, C, 4 * C);
            var dResidual2 = (double[])dx.Clone();
            ReferenceGptOps.LayerNormBackward(dResidual2, G(o.Norm2Weight, C), G(o.Norm2Bias, C), dLn2, a.Residual2, P(o.Norm2Weight, C), a.Ln2Mean, a.Ln2Rstd, N, C);
            // Residual2 = Input + AttProj(Attention(Qkv(Ln1(Input)))).
            var dAttY = new double[N * C];
            ReferenceGptOps.MatMulBackward(dAttY, G(o.AttentionProjWeight, C * C), G(o.AttentionProjBias, C), dResidual2, a.AttY, P(o.AttentionProjWeight, C * C), N, C, C);
            var dQkv = new double[N * 3 * C];
            ReferenceGptOps.AttentionBackward(dQkv, dAttY, a.Qkv, a.Att, B, T, C, NH);
            var dLn1 = new double[N * C];
            ReferenceGptOps.MatMulBackward(dLn1, G(o.QkvWeight, 3 * C * C), G(o.QkvBias, 3 * C), dQkv, a.Ln1, P(o.QkvWeight, 3 * C * C), N, C, 3 * C);
            var dInput = (double[])dResidual2.Clone();
            ReferenceGptOps.LayerNormBackward(dInput, G(o.Norm1Weight, C), G(o.Norm1Bias, C), dLn1, a.Input, P(o.Norm1Weight, C), a.Ln1Mean, a.Ln1Rstd, N, C);
            dx = dInput;
        }
        ReferenceGptOps.EncoderBackward(G(Layout.TokenEmbedding, V * C), G(Layout.PositionEmbedding, Config.BlockSize * C), dx, inputs, B, T, C);
    }

    /// <summary>Optional clipping and one AdamW step with the current gradients; returns the gradient norm before clipping.</summary>
    public double Update(GptTraining settings)
    {
        var norm = ReferenceGptOps.ClipGradientNorm(Gradients, settings.MaxGradNorm > 0 ? settings.MaxGradNorm : double.PositiveInfinity);
        ReferenceGptOps.AdamW(Parameters, Gradients, m, v, ++step, settings);
        return norm;
    }

    /// <summary>One training step on a batch: forward, backward, update. Returns the loss.</summary>
    public double Step(int[] inputs, int[] targets, int B, GptTraining settings)
    {
        var loss = Forward(inputs, targets, B, Config.BlockSize);
        Backward();
        Update(settings);
        return loss;
    }
}
