namespace Ember.Nn.Utils;

/// <summary>
/// Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_). Clipping by norm rescales all gradients together,
/// keeping their direction, when their joint norm exceeds a threshold: it tames the occasional huge step (exploding
/// gradients in RNNs, early transformer training, high learning rates) without changing ordinary steps.
/// </summary>
public static class ClipGrad
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their total norm is at most
    /// <paramref name="maxNorm"/>, and returns the total norm before clipping, as PyTorch computes it: the
    /// <paramref name="normType"/>-norm of the per-parameter norms; every gradient is multiplied by
    /// min(1, maxNorm / (total + 1e-6)). <paramref name="normType"/> is 2, 1, ∞ (<see cref="double.PositiveInfinity"/>) or any p &gt; 0.
    /// Parameters without a gradient are ignored; with none at all the result is 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">When <paramref name="errorIfNonfinite"/> and the total norm is NaN or infinite.</exception>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        if (!(normType > 0))
            throw new ArgumentException($"ClipGradNorm: norm type must be positive (1, 2, inf or another p > 0), got {normType}");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return Torch.Scalar(0.0);
        using var _ = Torch.NoGrad();
        var dtype = grads.Any(g => g.DType == DType.Float64) ? DType.Float64 : DType.Float32;
        var norms = grads.Select(g => g.Detach().Norm(normType).To(dtype)).ToArray();
        var total = Torch.Stack(norms).Norm(normType);
        if (errorIfNonfinite && !double.IsFinite(total.Item()))
            throw new InvalidOperationException($"ClipGradNorm: the total norm of order {normType} for gradients from `parameters` is non-finite ({total.Item()}), so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite = false");
        // PyTorch computes max_norm / (total + 1e-6) as (total + 1e-6).reciprocal() * max_norm, in the gradients' dtype.
        var coef = ((total + 1e-6).Reciprocal() * maxNorm).Clamp(max: 1.0);
        foreach (var g in grads) g.MulInPlace(coef.To(g.DType));
        return total;
    }

    /// <summary>Clamps every gradient of <paramref name="parameters"/> in place to [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_).</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        if (!(clipValue >= 0)) throw new ArgumentException($"ClipGradValue: clip value must be non-negative, got {clipValue}");
        using var _ = Torch.NoGrad();
        foreach (var p in parameters)
            p.Grad?.ClampInPlace(-clipValue, clipValue);
    }
}
