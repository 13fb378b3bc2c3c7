namespace Ember.Data.Transforms;

/// <summary>Mirrors the image top-bottom with probability p (torchvision.transforms.RandomVerticalFlip).</summary>
public sealed class RandomVerticalFlip(double p = 0.5) : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
        => generator.NextDouble() < p ? ImageKernels.FlipVertical(input) : input;
}
