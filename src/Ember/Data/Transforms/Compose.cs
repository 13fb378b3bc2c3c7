namespace Ember.Data.Transforms;

/// <summary>Applies transforms in order, all drawing from the same generator (torchvision.transforms.Compose).</summary>
public sealed class Compose(params ITransform[] transforms) : ITransform
{
    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<ITransform> Transforms { get; } = transforms;

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        foreach (var t in Transforms) input = t.Apply(input, generator);
        return input;
    }
}
