namespace Ember.Nn.Layers;

/// <summary>Splits dim into <paramref name="unflattenedSize"/> (torch.nn.Unflatten); one size may be −1.</summary>
public sealed class Unflatten(int dim, params int[] unflattenedSize) : Module
{
    /// <summary>The dim that is split.</summary>
    public int Dim { get; } = dim;
    /// <summary>The sizes it becomes.</summary>
    public IReadOnlyList<int> UnflattenedSize { get; } = unflattenedSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Unflatten(Dim, [.. UnflattenedSize]);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}, unflattened_size={PyRepr.Tuple(UnflattenedSize)}";
}
