namespace Ember.Nn.Layers;

/// <summary>Instance normalization of [N, C, L] (or [C, L]) inputs (torch.nn.InstanceNorm1d).</summary>
public sealed class InstanceNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = false, bool trackRunningStats = false)
    : InstanceNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override int NoBatchRank => 2;
}
