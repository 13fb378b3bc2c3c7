namespace Ember.Nn.Layers;

/// <summary>Batch normalization of [N, C] or [N, C, L] inputs (torch.nn.BatchNorm1d).</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckInputDim(Tensor input)
    {
        if (input.Rank != 2 && input.Rank != 3)
            throw new ArgumentException($"BatchNorm1d: expected 2D or 3D input (got {input.Rank}D input, shape {input.Shape})");
    }
}
