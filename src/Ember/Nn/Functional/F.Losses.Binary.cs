using Ember.Autograd;

namespace Ember.Nn.Functional;

// Binary classification losses: BCE on probabilities, BCE on logits, soft margin, and the two focal losses.
public static partial class F
{
    /// <summary>
    /// Binary cross-entropy on probabilities (torch.nn.functional.binary_cross_entropy):
    /// ℓ = −w·[t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)]. Input and target have the same shape and lie in
    /// [0, 1]; weight broadcasts. The log is clamped at −100 as PyTorch does, so p = 0 or 1 gives a finite loss, and
    /// the gradient is PyTorch's (p − t)/max(p(1 − p), 1e-12).
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "binary_cross_entropy";
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var t = AsInputType(target, input);
        CheckUnitInterval(op, input, "input");
        CheckUnitInterval(op, t, "target");
        var x = input;
        Tensor loss;
        using (Torch.NoGrad())
            loss = (t - 1.0) * (-x).Log1p().Clamp(min: -100) - t * x.Log().Clamp(min: -100);
        loss = Recording.Binary(loss, "BinaryCrossEntropyBackward0", x, t,
            g => g * (x - t) / ((1.0 - x) * x).Clamp(min: 1e-12),
            g => -g * (x.Log() - (-x).Log1p()), // −logit(p), as PyTorch's target gradient
            x, t);
        if (weight is not null) loss = loss * AsInputType(weight, input);
        return Autograd.Recording.Named(Reduce(loss, reduction), "BinaryCrossEntropyBackward0", input, target);
    }

    static void CheckUnitInterval(string op, Tensor t, string name)
    {
        var values = t.ToDoubleArray();
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0 && values[i] <= 1))
                throw new ArgumentException($"{op}: all elements of {name} should be between 0 and 1, got {values[i]} at flat position {i} of {name} shape {t.Shape}");
    }

    /// <summary>
    /// Binary cross-entropy on logits (torch.nn.functional.binary_cross_entropy_with_logits), in the stable form
    /// ℓ = w·[(1 − t)·x + (1 + (pw − 1)·t)·(log(1 + e^(−|x|)) + max(−x, 0))], never sigmoid then log.
    /// posWeight (usually one value per class, shape [C]) broadcasts against the target's last dims; weight broadcasts too.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "binary_cross_entropy_with_logits";
        input = Ops.PrecisionOps.Float32ForAutocast(input); // autocast: losses stay in float32
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var t = AsInputType(target, input);
        var logSigmoid = input.LogSigmoid(); // −(log(1 + e^(−|x|)) + max(−x, 0))
        if (posWeight is not null) logSigmoid = logSigmoid * ((AsInputType(posWeight, input) - 1.0) * t + 1.0);
        var loss = (1.0 - t) * input - logSigmoid;
        if (weight is not null) loss = loss * AsInputType(weight, input);
        return Autograd.Recording.Named(Reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0", input, target);
    }

    /// <summary>Two-class logistic loss log(1 + e^(−y·x)) for targets y ∈ {−1, 1} (torch.nn.functional.soft_margin_loss).</summary>
    public static Tensor SoftMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        const string op = "soft_margin_loss";
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        // PyTorch evaluates log1p(exp(−y·x)) literally; kept so that values and overflow behaviour match
        return Reduce((-(input * AsInputType(target, input))).Exp().Log1p(), reduction);
    }

    /// <summary>
    /// Focal loss of RetinaNet in torchvision's form (torchvision.ops.sigmoid_focal_loss):
    /// ℓ = α_t·BCEWithLogits(x, t)·(1 − p_t)^γ with p = σ(x), p_t = p·t + (1 − p)(1 − t), α_t = α·t + (1 − α)(1 − t).
    /// A negative alpha disables the α_t weighting. The reduction defaults to none, as torchvision's does.
    /// </summary>
    public static Tensor SigmoidFocalLoss(Tensor input, Tensor target, double alpha = 0.25, double gamma = 2, Reduction reduction = Reduction.None)
    {
        const string op = "sigmoid_focal_loss";
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var t = AsInputType(target, input);
        var p = input.Sigmoid();
        var ce = BinaryCrossEntropyWithLogits(input, t, reduction: Reduction.None);
        var pT = p * t + (1.0 - p) * (1.0 - t);
        var loss = ce * (1.0 - pT).Pow(gamma);
        if (alpha >= 0) loss = (alpha * t + (1 - alpha) * (1.0 - t)) * loss;
        return Reduce(loss, reduction);
    }

    /// <summary>
    /// Focal loss as YOLOv5 writes it (the notes' FocalLoss): an elementwise loss (BCE with logits unless
    /// <paramref name="elementLoss"/> is given, which must be unreduced) times α_factor·(1 − p_t)^γ, with p = σ(x),
    /// p_t = t·p + (1 − t)(1 − p) and α_factor = t·α + (1 − t)(1 − α); then reduced.
    /// </summary>
    public static Tensor FocalLoss(Tensor input, Tensor target, double gamma = 1.5, double alpha = 0.25, Reduction reduction = Reduction.Mean, Tensor? elementLoss = null)
    {
        const string op = "focal_loss";
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var t = AsInputType(target, input);
        var loss = elementLoss ?? BinaryCrossEntropyWithLogits(input, t, reduction: Reduction.None);
        if (elementLoss is not null) CheckSameShape(op, input, elementLoss, targetName: "element loss");
        var p = input.Sigmoid();
        var pT = t * p + (1.0 - t) * (1.0 - p);
        var alphaFactor = t * alpha + (1.0 - t) * (1 - alpha);
        var modulatingFactor = (1.0 - pT).Pow(gamma);
        return Reduce(loss * (alphaFactor * modulatingFactor), reduction);
    }
}
