namespace Ember.Nn.Layers;

/// <summary>Instance normalization of [N, C, H, W] (or [C, H, W]) inputs (torch.nn.InstanceNorm2d).</summary>
public sealed class InstanceNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = false, bool trackRunningStats = false)
    : InstanceNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override int NoBatchRank => 3;
}
