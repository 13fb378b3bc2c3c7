namespace Ember.Nn;

/// <summary>
/// How a loss reduces its per-element values (PyTorch's reduction='none' | 'mean' | 'sum' | 'batchmean'): one enum for
/// every loss. <see cref="BatchMean"/> exists for <see cref="Functional.F.KlDiv"/> only, as in PyTorch; the other
/// losses reject it.
/// </summary>
public enum Reduction
{
    /// <summary>Keep per-element losses.</summary>
    None,
    /// <summary>Average (the default).</summary>
    Mean,
    /// <summary>Sum.</summary>
    Sum,
    /// <summary>Sum divided by the batch size (the first dim): the true KL divergence per sample (kl_div only).</summary>
    BatchMean,
}
