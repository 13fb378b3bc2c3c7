namespace Ember.Nn.Layers;

/// <summary>Batch normalization of [N, C, H, W] inputs (torch.nn.BatchNorm2d).</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckInputDim(Tensor input)
    {
        if (input.Rank != 4)
            throw new ArgumentException($"BatchNorm2d: expected 4D input (got {input.Rank}D input, shape {input.Shape})");
    }
}
