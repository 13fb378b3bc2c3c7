namespace Ember.Nn.Functional;

// Regression losses on the difference d = input − target (same shapes; a mismatch is an error, not a broadcast).
public static partial class F
{
    /// <summary>Mean absolute error |x − y| (torch.nn.functional.l1_loss).</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => Reduce(Difference("l1_loss", input, target).Abs(), reduction);

    /// <summary>Mean squared error (x − y)² (torch.nn.functional.mse_loss).</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => Autograd.Recording.Named(Reduce(Difference("mse_loss", input, target).Square(), reduction), "MseLossBackward0", input, target);

    /// <summary>
    /// Smooth L1 (torch.nn.functional.smooth_l1_loss): 0.5·d²/β where |d| &lt; β, |d| − 0.5·β elsewhere.
    /// β = 0 is the L1 loss, as in PyTorch.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        const string op = "smooth_l1_loss";
        if (beta < 0) throw new ArgumentException($"{op}: beta must be non-negative, got {beta}");
        var d = Difference(op, input, target);
        var loss = beta == 0 ? Reduce(d.Abs(), reduction) : SmoothL1(d.Abs(), beta, reduction);
        return Autograd.Recording.Named(loss, "SmoothL1LossBackward0", input, target);
    }

    /// <summary>
    /// Huber loss (torch.nn.functional.huber_loss): 0.5·d² where |d| &lt; δ, δ·(|d| − 0.5·δ) elsewhere; equals
    /// δ·SmoothL1(β = δ), and SmoothL1 itself at δ = 1.
    /// </summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        const string op = "huber_loss";
        if (!(delta > 0)) throw new ArgumentException($"{op}: delta must be positive, got {delta}");
        var z = Difference(op, input, target).Abs();
        return Autograd.Recording.Named(Reduce(Torch.Where(z < delta, z * 0.5 * z, (z - 0.5 * delta) * delta), reduction), "HuberLossBackward0", input, target);
    }

    static Tensor SmoothL1(Tensor z, double beta, Reduction reduction) => Reduce(Torch.Where(z < beta, z * 0.5 * z / beta, z - 0.5 * beta), reduction);

    static Tensor Difference(string op, Tensor input, Tensor target)
    {
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        return input - AsInputType(target, input);
    }
}
