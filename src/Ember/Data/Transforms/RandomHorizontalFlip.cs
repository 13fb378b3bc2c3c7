namespace Ember.Data.Transforms;

/// <summary>Mirrors the image left-right with probability p (torchvision.transforms.RandomHorizontalFlip).</summary>
public sealed class RandomHorizontalFlip(double p = 0.5) : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
        => generator.NextDouble() < p ? ImageKernels.FlipHorizontal(input) : input;
}
