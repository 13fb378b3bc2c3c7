namespace Ember.Nn.Functional;

// Margin and embedding losses: triplet margin, margin ranking, cosine embedding, multilabel soft margin, each written
// the way ATen / torch.nn.functional writes it, so values and gradients (including at the hinge) are PyTorch's.
public static partial class F
{
    /// <summary>
    /// max(d(a, p) − d(a, n) + margin, 0) with d the pairwise p-norm distance (torch.nn.functional.triplet_margin_loss;
    /// margin 1, p 2, eps 1e-6). With <paramref name="swap"/>, d(a, n) is replaced by min(d(a, n), d(p, n)).
    /// Inputs are [N, D] or [D].
    /// </summary>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, double margin = 1.0, double p = 2,
        double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string op = "triplet_margin_loss";
        if (anchor.Rank != positive.Rank || anchor.Rank != negative.Rank)
            throw new ArgumentException($"{op}: the anchor, positive and negative must have the same number of dimensions, got {anchor.Shape}, {positive.Shape} and {negative.Shape}");
        if (anchor.Rank is < 1 or > 2)
            throw new ArgumentException($"{op}: expected 1-D or 2-D inputs, got anchor {anchor.Shape}");
        var dPos = PairwiseDistance(anchor, positive, p, eps);
        var dNeg = PairwiseDistance(anchor, negative, p, eps);
        if (swap) dNeg = dNeg.Minimum(PairwiseDistance(positive, negative, p, eps));
        return Reduce((dPos - dNeg + margin).Clamp(min: 0), reduction);
    }

    /// <summary>
    /// max(−y·(x1 − x2) + margin, 0) for y ∈ {1, −1} (torch.nn.functional.margin_ranking_loss; margin 0): y = 1 asks
    /// x1 to rank above x2.
    /// </summary>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string op = "margin_ranking_loss";
        if (input1.Rank != input2.Rank || input1.Rank != target.Rank)
            throw new ArgumentException($"{op}: all input tensors should have the same number of dimensions, got input1 {input1.Shape}, input2 {input2.Shape} and target {target.Shape}");
        return Reduce((-AsInputType(target, input1) * (input1 - input2) + margin).Clamp(min: 0), reduction);
    }

    /// <summary>
    /// 1 − cos(x1, x2) where y = 1 and max(cos(x1, x2) − margin, 0) where y = −1 (torch.nn.functional.cosine_embedding_loss;
    /// margin 0). Inputs [N, D] with target [N], or [D] with a 0-d target; cos uses ATen's (‖x1‖² + 1e-12)(‖x2‖² + 1e-12).
    /// </summary>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string op = "cosine_embedding_loss";
        if (target.Rank > 1 || input1.Rank != target.Rank + 1)
            throw new ArgumentException($"{op}: expected [N, D] inputs with an [N] target or [D] inputs with a 0-D target, got input1 {input1.Shape}, input2 {input2.Shape} and target {target.Shape}");
        CheckSameShape(op, input1, input2, "input1", "input2");
        const double Epsilon = 1e-12;
        int dim = target.Rank;
        var prod = (input1 * input2).Sum(dim);
        var mag1 = (input1 * input1).Sum(dim) + Epsilon;
        var mag2 = (input2 * input2).Sum(dim) + Epsilon;
        var cos = prod / (mag1 * mag2).Sqrt();
        var zeros = Torch.ZerosLike(cos);
        var t = AsInputType(target, cos);
        var pos = Torch.Where(t.Eq(1.0), 1.0 - cos, zeros);
        var neg = Torch.Where(t.Eq(-1.0), (cos - margin).Clamp(min: 0), zeros);
        return Reduce(pos + neg, reduction);
    }

    /// <summary>
    /// Mean over the C classes of −(y·log σ(x) + (1 − y)·log σ(−x)), one value per sample, then reduced
    /// (torch.nn.functional.multilabel_soft_margin_loss); <paramref name="weight"/> [C] rescales each class.
    /// </summary>
    public static Tensor MultilabelSoftMarginLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "multilabel_soft_margin_loss";
        CheckSameShape(op, input, target);
        CheckFloating(op, input, "input");
        var y = AsInputType(target, input);
        var loss = -(y * input.LogSigmoid() + (1.0 - y) * (-input).LogSigmoid());
        if (weight is not null) loss = loss * AsInputType(weight, input);
        int classDim = input.Rank - 1;
        loss = loss.Sum(classDim) / (double)input.Size(classDim);
        return Reduce(loss, reduction);
    }
}
