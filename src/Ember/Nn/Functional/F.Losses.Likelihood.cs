namespace Ember.Nn.Functional;

// Negative log-likelihood losses of count and Gaussian regression (torch.nn.functional.poisson_nll_loss /
// gaussian_nll_loss), as PyTorch computes them.
public static partial class F
{
    /// <summary>
    /// Poisson negative log-likelihood (torch.nn.functional.poisson_nll_loss): e^x − y·x when
    /// <paramref name="logInput"/> (the default: x is the log-rate), else x − y·log(x + eps). <paramref name="full"/>
    /// adds Stirling's term y·log y − y + ½·log(2πy) where y &gt; 1.
    /// </summary>
    public static Tensor PoissonNllLoss(Tensor input, Tensor target, bool logInput = true, bool full = false, double eps = 1e-8,
        Reduction reduction = Reduction.Mean)
    {
        const string op = "poisson_nll_loss";
        CheckFloating(op, input, "input");
        var y = AsInputType(target, input);
        var loss = logInput ? input.Exp() - y * input : input - y * (input + eps).Log();
        if (full)
        {
            // y ≤ 1 gets no term; a safe y there keeps log from producing NaN that masking would not remove
            var small = y <= 1.0;
            var ys = Torch.Where(small, Torch.OnesLike(y) * 2.0, y);
            var stirling = ys * ys.Log() - ys + (ys * (2 * Math.PI)).Log() * 0.5;
            loss = loss + stirling.MaskedFill(small, 0.0);
        }
        return Reduce(loss, reduction);
    }

    /// <summary>
    /// Gaussian negative log-likelihood ½·(log v + (x − y)²/v) with v = max(var, eps) (torch.nn.functional.gaussian_nll_loss;
    /// eps 1e-6); <paramref name="full"/> adds ½·log 2π. <paramref name="variance"/> has the input's shape, or one dim
    /// fewer, or a last dim of 1 (one variance shared by the last dim). As PyTorch, the clamp changes the value only:
    /// the gradient flows to var as if unclamped.
    /// </summary>
    public static Tensor GaussianNllLoss(Tensor input, Tensor target, Tensor variance, bool full = false, double eps = 1e-6,
        Reduction reduction = Reduction.Mean)
    {
        const string op = "gaussian_nll_loss";
        CheckFloating(op, input, "input");
        var v = variance;
        if (v.Shape != input.Shape)
        {
            bool oneShort = v.Rank == input.Rank - 1 && v.shape.AsSpan().SequenceEqual(input.shape.AsSpan(0, input.Rank - 1));
            bool lastOne = v.Rank == input.Rank && v.shape[^1] == 1 && v.shape.AsSpan(0, v.Rank - 1).SequenceEqual(input.shape.AsSpan(0, input.Rank - 1));
            if (oneShort) v = v.Unsqueeze(-1);
            else if (!lastOne)
                throw new ArgumentException($"{op}: var is of incorrect size: expected the input's shape {input.Shape}, that shape without its last dim, or with a last dim of 1; got {variance.Shape}");
        }
        using (Torch.NoGrad())
            if ((v.Detach() < 0.0).AnyNonzero()) throw new ArgumentException($"{op}: var has negative entry/entries (shape {variance.Shape})");
        v = AsInputType(v, input);
        Tensor shift;
        using (Torch.NoGrad()) shift = v.Clamp(min: eps) - v;
        v = v + shift;
        var loss = (v.Log() + (input - AsInputType(target, input)).Square() / v) * 0.5;
        if (full) loss = loss + 0.5 * Math.Log(2 * Math.PI);
        return Reduce(loss, reduction);
    }
}
