using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// The connectionist temporal classification loss (torch.nn.functional.ctc_loss, Graves et al. 2006): per sample, the
/// negative log of the summed probability of every alignment of the target (blanks between and around labels, repeats
/// merged) with the input, by the forward (α) recursion in log space. Backward runs the β recursion and gives
/// PyTorch's gradient with respect to the log-probabilities, exp(lp) − exp(log Σ_{s: l'ₛ = c} αₜ(s)·βₜ(s) + nll − lp):
/// the gradient of the loss through a log_softmax, which is what PyTorch returns (it is not the partial derivative of
/// the loss in lp alone). Like PyTorch's, it is first order only.
/// </summary>
internal static class CtcLossOp
{
    const string Op = "ctc_loss";

    /// <summary>
    /// Per-sample negative log-likelihoods [N] from <paramref name="logProbs"/> [T, N, C]; <paramref name="targets"/> is
    /// [N, S] (padded) or 1-D (concatenated); lengths are per sample.
    /// </summary>
    public static Tensor Nll(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, int blank, bool zeroInfinity)
    {
        if (!logProbs.DType.IsFloatingPoint())
            throw new ArgumentException($"{Op}: expected floating-point log_probs, got {logProbs.DType.TorchName()}");
        if (logProbs.Rank != 3) throw new ArgumentException($"{Op}: expected log_probs of shape (T, N, C), got {logProbs.Shape}");
        int t = logProbs.shape[0], n = logProbs.shape[1], c = logProbs.shape[2];
        if (blank < 0 || blank >= c) throw new ArgumentException($"{Op}: blank must be in label range [0, {c}), got {blank}");
        if (inputLengths.Length != n) throw new ArgumentException($"{Op}: input_lengths must have length {n} (the batch size), got {inputLengths.Length}");
        if (targetLengths.Length != n) throw new ArgumentException($"{Op}: target_lengths must have length {n} (the batch size), got {targetLengths.Length}");
        if (targets.DType.IsFloatingPoint()) throw new ArgumentException($"{Op}: targets must hold integer class indices, got {targets.DType.TorchName()}");
        var labels = targets.Detach().To(DType.Int64).Contiguous().ToArray<long>();
        var offsets = new long[n];
        long total = 0;
        for (int b = 0; b < n; b++)
        {
            if (inputLengths[b] < 0 || inputLengths[b] > t)
                throw new ArgumentException($"{Op}: Expected input_lengths to have value at most {t}, but got value {inputLengths[b]} (sample {b})");
            if (targetLengths[b] < 0) throw new ArgumentException($"{Op}: target_lengths must be non-negative, got {targetLengths[b]} (sample {b})");
            if (targets.Rank == 2)
            {
                if (targets.shape[0] != n) throw new ArgumentException($"{Op}: padded targets must have {n} rows (the batch size), got shape {targets.Shape}");
                if (targetLengths[b] > targets.shape[1])
                    throw new ArgumentException($"{Op}: Expected tensor to have size at least {targetLengths[b]} at dimension 1, but got size {targets.shape[1]} for argument targets (sample {b})");
                offsets[b] = (long)b * targets.shape[1];
            }
            else offsets[b] = total;
            total += targetLengths[b];
        }
        if (targets.Rank == 1 && total > targets.shape[0])
            throw new ArgumentException($"{Op}: concatenated targets hold {targets.shape[0]} labels but target_lengths sum to {total}");
        if (targets.Rank is not (1 or 2)) throw new ArgumentException($"{Op}: targets must be 1-D (concatenated) or 2-D (padded), got shape {targets.Shape}");
        for (int b = 0; b < n; b++)
            for (long i = 0; i < targetLengths[b]; i++)
            {
                long label = labels[offsets[b] + i];
                if (label < 0 || label >= c) throw new ArgumentException($"{Op}: target label {label} of sample {b} is outside [0, {c})");
            }

        var lp = LinalgBatch.Data(logProbs);             // [T, N, C] as float64
        var nll = new double[n];
        var alphas = new double[n][];
        for (int b = 0; b < n; b++)
        {
            var ext = Extended(labels, offsets[b], (int)targetLengths[b], blank);
            alphas[b] = Alpha(lp, ext, (int)inputLengths[b], b, n, c, out nll[b]);
            if (zeroInfinity && double.IsPositiveInfinity(nll[b])) nll[b] = 0;
        }
        var y = LinalgBatch.Result(nll, [n], logProbs.DType);
        return Recording.Unary(y, "CtcLossBackward0", logProbs, g =>
        {
            var go = g.Detach().To(DType.Float64).Contiguous().ToArray<double>();
            var grad = new double[lp.Length];
            for (int b = 0; b < n; b++)
            {
                var ext = Extended(labels, offsets[b], (int)targetLengths[b], blank);
                Gradient(lp, ext, alphas[b], (int)inputLengths[b], b, n, c, go[b], zeroInfinity, grad);
            }
            return LinalgBatch.Result(grad, logProbs.shape, logProbs.DType);
        });
    }

    // l' = blank, l₁, blank, l₂, …, l_L, blank
    static int[] Extended(long[] labels, long offset, int length, int blank)
    {
        var ext = new int[2 * length + 1];
        for (int s = 0; s < ext.Length; s++) ext[s] = s % 2 == 0 ? blank : (int)labels[offset + s / 2];
        return ext;
    }

    static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double m = Math.Max(a, b);
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }

    // α[t, s] (row-major [T_b, S']) and nll = −log(α[T−1, S'−1] + α[T−1, S'−2])
    static double[] Alpha(double[] lp, int[] ext, int steps, int b, int n, int c, out double nll)
    {
        int sCount = ext.Length;
        var alpha = new double[Math.Max(steps, 1) * sCount];
        Array.Fill(alpha, double.NegativeInfinity);
        if (steps == 0) { nll = sCount == 1 ? 0 : double.PositiveInfinity; return alpha; }
        alpha[0] = lp[b * c + ext[0]];
        if (sCount > 1) alpha[1] = lp[b * c + ext[1]];
        for (int t = 1; t < steps; t++)
        {
            int row = (t * n + b) * c;
            for (int s = 0; s < sCount; s++)
            {
                double a = alpha[(t - 1) * sCount + s];
                if (s > 0) a = LogAdd(a, alpha[(t - 1) * sCount + s - 1]);
                if (s > 1 && ext[s] != ext[0] && ext[s] != ext[s - 2]) a = LogAdd(a, alpha[(t - 1) * sCount + s - 2]);
                alpha[t * sCount + s] = double.IsNegativeInfinity(a) ? a : a + lp[row + ext[s]];
            }
        }
        double end = alpha[(steps - 1) * sCount + sCount - 1];
        if (sCount > 1) end = LogAdd(end, alpha[(steps - 1) * sCount + sCount - 2]);
        nll = -end;
        return alpha;
    }

    static void Gradient(double[] lp, int[] ext, double[] alpha, int steps, int b, int n, int c, double gOut, bool zeroInfinity, double[] grad)
    {
        int sCount = ext.Length;
        if (steps == 0) return;
        double nll = -LogAdd(alpha[(steps - 1) * sCount + sCount - 1], sCount > 1 ? alpha[(steps - 1) * sCount + sCount - 2] : double.NegativeInfinity);
        if (zeroInfinity && double.IsPositiveInfinity(nll)) return;     // gradient 0, as PyTorch with zero_infinity
        var beta = new double[steps * sCount];
        Array.Fill(beta, double.NegativeInfinity);
        int last = ((steps - 1) * n + b) * c;
        beta[(steps - 1) * sCount + sCount - 1] = lp[last + ext[sCount - 1]];
        if (sCount > 1) beta[(steps - 1) * sCount + sCount - 2] = lp[last + ext[sCount - 2]];
        for (int t = steps - 2; t >= 0; t--)
        {
            int row = (t * n + b) * c;
            for (int s = 0; s < sCount; s++)
            {
                double a = beta[(t + 1) * sCount + s];
                if (s + 1 < sCount) a = LogAdd(a, beta[(t + 1) * sCount + s + 1]);
                if (s + 2 < sCount && ext[s] != ext[0] && ext[s] != ext[s + 2]) a = LogAdd(a, beta[(t + 1) * sCount + s + 2]);
                beta[t * sCount + s] = double.IsNegativeInfinity(a) ? a : a + lp[row + ext[s]];
            }
        }
        var lcab = new double[c];
        for (int t = 0; t < steps; t++)
        {
            Array.Fill(lcab, double.NegativeInfinity);
            for (int s = 0; s < sCount; s++)
                lcab[ext[s]] = LogAdd(lcab[ext[s]], alpha[t * sCount + s] + beta[t * sCount + s]);
            int row = (t * n + b) * c;
            for (int k = 0; k < c; k++)
            {
                double l = lp[row + k];
                grad[row + k] = (Math.Exp(l) - Math.Exp(lcab[k] + nll - l)) * gOut;
            }
        }
    }
}
