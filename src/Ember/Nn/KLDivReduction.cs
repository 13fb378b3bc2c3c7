namespace Ember.Nn;

/// <summary>
/// KLDivLoss's reductions (torch.nn.KLDivLoss reduction='none' | 'batchmean' | 'sum' | 'mean'): the shared
/// <see cref="Reduction"/> plus BatchMean, which only the KL divergence has.
/// </summary>
public enum KLDivReduction
{
    /// <summary>Keep per-element values.</summary>
    None,
    /// <summary>Sum divided by the batch size (the first dim): the true KL divergence per sample.</summary>
    BatchMean,
    /// <summary>Sum.</summary>
    Sum,
    /// <summary>Mean over all elements (PyTorch's default, which it warns about).</summary>
    Mean,
}
