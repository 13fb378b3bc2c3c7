namespace Ember.Data.Transforms;

/// <summary>
/// A transform of one sample (torchvision.transforms): images are CHW float tensors. Random transforms draw every
/// random number from the <see cref="Generator"/> they are given (the loader hands each sample its own, derived from
/// (seed, epoch, position)), so they are deterministic under a seed and safe to run on several threads.
/// </summary>
public interface ITransform
{
    /// <summary>Transforms <paramref name="input"/>; deterministic transforms ignore <paramref name="generator"/>.</summary>
    Tensor Apply(Tensor input, Generator generator);
}
