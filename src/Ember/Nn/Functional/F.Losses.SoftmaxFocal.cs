namespace Ember.Nn.Functional;

// The multi-class (softmax) focal loss, for classification with imbalanced classes.
public static partial class F
{
    /// <summary>
    /// Softmax focal loss (Lin et al. 2017, the multi-class form): ℓᵢ = −Σ_c tᵢ[c]·(1 − pᵢ[c])^γ·log pᵢ[c] with
    /// p = softmax(input) over dim 1 of [N, C] logits. The target is int64 class indices [N] (one-hot) or class
    /// probabilities [N, C] (MixUp's soft targets). γ = 0 is the cross-entropy; larger γ down-weights the examples the
    /// model already gets right, so the rare, hard ones weigh more.
    /// </summary>
    public static Tensor SoftmaxFocalLoss(Tensor input, Tensor target, double gamma = 2, Reduction reduction = Reduction.Mean)
    {
        const string op = "softmax_focal_loss";
        CheckFloating(op, input, "input");
        if (input.Rank != 2) throw new ArgumentException($"{op}: expected logits of shape [N, C], got {input.Shape}");
        if (!(gamma >= 0) || double.IsInfinity(gamma)) throw new ArgumentException($"{op}: gamma must be a finite value >= 0, got {gamma}");
        int classes = input.Size(1);
        Tensor probabilities;
        if (target.Shape == input.Shape)
        {
            if (!target.DType.IsFloatingPoint())
                throw new ArgumentException($"{op}: a target shaped like the input ({input.Shape}) holds class probabilities and must be floating point, got {target.DType.TorchName()}");
            probabilities = AsInputType(target, input);
        }
        else
        {
            if (target.DType != DType.Int64 || target.Rank != 1 || target.Size(0) != input.Size(0))
                throw new ArgumentException($"{op}: expected int64 class indices of shape [{input.Size(0)}] or probabilities of shape {input.Shape}, got {target.DType.TorchName()} {target.Shape}");
            probabilities = Torch.OneHot(target, classes).To(input.DType);
        }
        var logp = input.LogSoftmax(1);
        var weighted = gamma == 0 ? logp : (1.0 - logp.Exp()).Pow(gamma) * logp;
        return Reduce(-(weighted * probabilities).Sum([1]), reduction);
    }
}
