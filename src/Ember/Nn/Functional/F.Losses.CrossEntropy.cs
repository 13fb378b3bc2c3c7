using System.Text;

namespace Ember.Nn.Functional;

// Multi-class losses over a class dim: cross-entropy (class indices or probabilities), NLL and KL divergence.
public static partial class F
{
    /// <summary>
    /// Cross-entropy between raw logits and targets (torch.nn.functional.cross_entropy). Input is [C] (unbatched),
    /// [N, C] or [N, C, d1, d2, …]; the class dim is 1 (0 when unbatched). The target is either int64 class indices with
    /// the input's shape minus the class dim, or float class probabilities with the input's shape.
    /// <para>Class indices: ℓᵢ = −w[tᵢ]·log softmax(x)ᵢ[tᵢ], ignored targets contribute 0, and the mean divides by
    /// Σ w[tᵢ] over the non-ignored targets. Label smoothing ε mixes in (ε/C)·Σ_c −w[c]·log softmax(x)ᵢ[c], with the mean
    /// divided by the same Σ w[tᵢ] — PyTorch's formula, which is not quite the cross-entropy against (1 − ε)·onehot + ε/C
    /// when weights are given.</para>
    /// <para>Probabilities: targets become (1 − ε)·t + ε/C, ℓᵢ = −Σ_c w[c]·t[c]·log softmax(x)ᵢ[c], and the mean
    /// divides by the number of samples N·d1·d2… (not by the weights). ignore_index is not supported there.</para>
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        const string op = "cross_entropy";
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        int classDim = ClassDim(op, input);
        int classes = input.Size(classDim);
        CheckFloating(op, input, "input");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentException($"{op}: label_smoothing must be between 0.0 and 1.0, got {labelSmoothing}");
        var w = ClassWeight(op, weight, input, classes);
        var logp = input.LogSoftmax(classDim);

        if (input.Shape == target.Shape) // PyTorch's rule: a target shaped like the input holds class probabilities
        {
            if (!target.DType.IsFloatingPoint())
                throw new ArgumentException($"{op}: a target with the input's shape {input.Shape} holds class probabilities and must be floating point, got {target.DType.TorchName()}; class-index targets must be int64 of shape {ClassIndexShape(input, classDim)}");
            if (ignoreIndex >= 0)
                throw new ArgumentException($"{op}: ignore_index ({ignoreIndex}) is not supported for class-probability (floating point) targets");
            var t = AsInputType(target, input);
            if (labelSmoothing > 0) t = t * (1 - labelSmoothing) + labelSmoothing / classes;
            var prod = logp * t;
            if (w is not null) prod = prod * w.View(ClassViewShape(input.Rank, classDim, classes));
            return reduction switch
            {
                Reduction.None => -prod.Sum(classDim),
                Reduction.Sum => -prod.Sum(),
                Reduction.BatchMean => throw BatchMeanOnlyForKlDiv(op),
                // the mean is over samples, not classes; PyTorch returns NaN for an empty input
                _ => input.NumEl == 0 ? -prod.Sum() / 0.0 : -prod.Sum() / (input.NumEl / classes),
            };
        }

        var (nll, targetWeight, ignored) = Nll(op, logp, target, w, ignoreIndex, classDim);
        var loss = ReduceNll(op, nll, targetWeight, reduction);
        if (labelSmoothing <= 0) return Autograd.Recording.Named(loss, NllNodeName(input), input);

        var smooth = w is null ? -logp.Sum(classDim) : -(logp * w.View(ClassViewShape(input.Rank, classDim, classes))).Sum(classDim);
        smooth = Torch.Where(ignored, Torch.ZerosLike(smooth), smooth);
        var smoothReduced = reduction switch
        {
            Reduction.None => smooth,
            Reduction.Sum => smooth.Sum(),
            Reduction.BatchMean => throw BatchMeanOnlyForKlDiv(op),
            _ => smooth.Sum() / targetWeight.Sum(), // the weights of the non-ignored targets, as nll_loss's mean
        };
        return (1 - labelSmoothing) * loss + smoothReduced * (labelSmoothing / classes);
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities (torch.nn.functional.nll_loss): ℓᵢ = −w[tᵢ]·xᵢ[tᵢ] with int64 class
    /// indices t; shapes as in <see cref="CrossEntropy"/>. The mean divides by Σ w[tᵢ] over non-ignored targets
    /// (NaN when every target is ignored, as in PyTorch).
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string op = "nll_loss";
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        int classDim = ClassDim(op, input);
        CheckFloating(op, input, "input");
        var w = ClassWeight(op, weight, input, input.Size(classDim));
        var (nll, targetWeight, _) = Nll(op, input, target, w, ignoreIndex, classDim);
        return Autograd.Recording.Named(ReduceNll(op, nll, targetWeight, reduction), NllNodeName(input), input);
    }

    // PyTorch's nll_loss node; a 4-D (image) input goes through nll_loss2d
    static string NllNodeName(Tensor input) => input.Rank == 4 ? "NllLoss2DBackward0" : "NllLossBackward0";

    static Tensor ReduceNll(string op, Tensor nll, Tensor targetWeight, Reduction reduction) => reduction switch
    {
        Reduction.None => nll,
        Reduction.Sum => nll.Sum(),
        Reduction.BatchMean => throw BatchMeanOnlyForKlDiv(op),
        _ => nll.Sum() / targetWeight.Sum(),
    };

    /// <summary>Per-target −w[t]·logp[t] (0 where ignored), the per-target weights (0 where ignored) and the ignore mask.</summary>
    static (Tensor Loss, Tensor TargetWeight, Tensor Ignored) Nll(string op, Tensor logp, Tensor target, Tensor? weight, int ignoreIndex, int classDim)
    {
        int classes = logp.Size(classDim);
        var expected = ClassIndexShape(logp, classDim);
        if (target.DType != DType.Int64)
            throw new ArgumentException($"{op}: expected class-index targets of dtype int64 and shape {expected} for input {logp.Shape}, got a {target.DType.TorchName()} target of shape {target.Shape}"
                + (op == "cross_entropy" ? $" (class probabilities would need a floating-point target of shape {logp.Shape})" : ""));
        if (target.Shape != expected)
            throw new ArgumentException($"{op}: expected target of shape {expected} (input {logp.Shape} without its class dim {classDim}), got target {target.Shape}");
        CheckClassRange(op, target, classes, ignoreIndex);

        var ignored = target.Eq(Torch.Scalar(ignoreIndex, DType.Int64));
        var safe = Torch.Where(ignored, Torch.ZerosLike(target), target); // ignored slots gather class 0, then get weight 0
        var picked = logp.Gather(classDim, safe.Unsqueeze(classDim)).Squeeze(classDim);
        var targetWeight = weight is null ? Torch.OnesLike(picked) : weight.IndexSelect(0, safe.Reshape(-1)).Reshape(target.shape);
        targetWeight = Torch.Where(ignored, Torch.ZerosLike(targetWeight), targetWeight).Detach();
        var loss = -picked * targetWeight;
        loss = Torch.Where(ignored, Torch.ZerosLike(loss), loss); // 0, not NaN, even where an ignored row holds −∞
        return (loss, targetWeight, ignored);
    }

    static void CheckClassRange(string op, Tensor target, int classes, int ignoreIndex)
    {
        var values = target.Contiguous().ToArray<long>();
        for (int i = 0; i < values.Length; i++)
        {
            long v = values[i];
            if (v == ignoreIndex || (v >= 0 && v < classes)) continue;
            throw new ArgumentException($"{op}: target {v} at position {FormatPosition(i, target.shape)} is out of bounds for {classes} classes (expected 0 <= target < {classes} or ignore_index {ignoreIndex})");
        }
    }

    /// <summary>Flat index → "[i, j, …]" in a row-major shape.</summary>
    static string FormatPosition(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { index[d] = flat % shape[d]; flat /= shape[d]; }
        var sb = new StringBuilder("[");
        for (int d = 0; d < index.Length; d++) sb.Append(d == 0 ? "" : ", ").Append(index[d]);
        return sb.Append(']').ToString();
    }

    static int ClassDim(string op, Tensor input)
    {
        if (input.Rank == 0) throw new ArgumentException($"{op}: expected input of shape [C], [N, C] or [N, C, d1, ...], got a 0-d input");
        return input.Rank == 1 ? 0 : 1;
    }

    static Shape ClassIndexShape(Tensor input, int classDim)
    {
        var dims = input.Shape.ToArray().ToList();
        dims.RemoveAt(classDim);
        return new Shape(dims.ToArray());
    }

    static int[] ClassViewShape(int rank, int classDim, int classes)
    {
        var shape = Enumerable.Repeat(1, rank).ToArray();
        shape[classDim] = classes;
        return shape;
    }

    static Tensor? ClassWeight(string op, Tensor? weight, Tensor input, int classes)
    {
        if (weight is null) return null;
        if (weight.Rank != 1 || weight.NumEl != classes)
            throw new ArgumentException($"{op}: expected a weight of shape [{classes}] (one per class), got {weight.Shape}");
        return AsInputType(weight, input);
    }

    /// <summary>
    /// Kullback–Leibler divergence (torch.nn.functional.kl_div) with input = log q and target = p (or log p when
    /// <paramref name="logTarget"/>): ℓ = p·(log p − log q), with 0·log 0 = 0. <see cref="Reduction.BatchMean"/>
    /// divides the sum by the batch size, the mathematically correct KL; Mean divides by the element count.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        const string op = "kl_div";
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var t = AsInputType(target, input);
        Tensor loss;
        if (logTarget) loss = t.Exp() * (t - input);
        else
        {
            // xlogy(t, t): 0 where t == 0; log of a safe 1 there so that neither value nor gradient turns NaN
            var zero = t.Eq(0.0);
            var xlogx = Torch.Where(zero, Torch.ZerosLike(t), t * Torch.Where(zero, Torch.OnesLike(t), t).Log());
            loss = xlogx - t * input;
        }
        return reduction switch
        {
            Reduction.None => loss,
            Reduction.Sum => loss.Sum(),
            Reduction.BatchMean => input.Rank == 0 ? loss.Sum() : loss.Sum() / input.Size(0),
            _ => loss.Mean(),
        };
    }
}
