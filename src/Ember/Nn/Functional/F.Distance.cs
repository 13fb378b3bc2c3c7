using Ember.Ops;

namespace Ember.Nn.Functional;

// Similarity and distance functions (torch.nn.functional.cosine_similarity / pairwise_distance).
public static partial class F
{
    /// <summary>
    /// Cosine of the angle between x1 and x2 along dim, after broadcasting: Σ (x1/max(‖x1‖, eps))·(x2/max(‖x2‖, eps))
    /// (torch.nn.functional.cosine_similarity; dim 1 and eps 1e-8 by default).
    /// </summary>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, int dim = 1, double eps = 1e-8) => DistanceOps.CosineSimilarity(x1, x2, dim, eps);

    /// <summary>‖x1 − x2 + eps‖_p over the last dim, broadcasting (torch.nn.functional.pairwise_distance).</summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2, double eps = 1e-6, bool keepDim = false)
        => DistanceOps.PairwiseDistance(x1, x2, p, eps, keepDim);
}
