using Ember.Data.Transforms;

namespace Ember.Detection.Data;

/// <summary>
/// A transform that renders a Fashion-MNIST item (1×28×28) as <see cref="FashionMnistDetectionSet"/> renders the items
/// of its detection images (<see cref="FashionMnistDetectionSet.RenderItem"/>: background colour, gradient, clutter,
/// random scale, aspect, flip and tint, noise) on a square canvas of <see cref="Size"/> px, so that a classifier trained
/// on it learns the features the detector needs (`ember detect pretrain`). Every draw comes from the sample's generator.
/// </summary>
public sealed class FashionMnistItemRender : ITransform
{
    /// <summary>The canvas side in pixels.</summary>
    public int Size { get; }

    /// <summary>The rendering options: make-data's defaults, with item scales for the canvas (<see cref="OptionsFor"/>).</summary>
    public SyntheticDetectionOptions Options { get; }

    /// <summary>A renderer onto <paramref name="size"/>-px canvases with <see cref="OptionsFor"/>(size).</summary>
    public FashionMnistItemRender(int size)
    {
        if (size < 32) throw new ArgumentOutOfRangeException(nameof(size), size, "FashionMnistItemRender: the canvas must be at least 32 px");
        Size = size;
        Options = OptionsFor(size);
    }

    /// <summary>
    /// make-data's background, clutter, noise and tint with items scaled to 50–80 % of the canvas side (28 px times
    /// 0.5·size/28 to 0.8·size/28): large enough for the classifier's stride-32 features, small enough that the widest
    /// aspect still fits.
    /// </summary>
    public static SyntheticDetectionOptions OptionsFor(int size) => new() { MinScale = 0.5 * size / 28, MaxScale = 0.8 * size / 28 };

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator) => FashionMnistDetectionSet.RenderItem(input, Size, Options, generator);
}
