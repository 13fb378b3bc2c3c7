using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// A parameterless placeholder for YOLOv5's Concat layer: it keeps the layer numbering of the model's <c>model</c>
/// list (and so YOLOv5's state-dict keys) aligned; <see cref="YoloV5"/> concatenates the inputs itself.
/// </summary>
public sealed class Concat(int dim = 1) : Module
{
    /// <summary>The concatenation dim.</summary>
    public int Dim { get; } = dim;

    /// <summary>Concatenates the inputs along <see cref="Dim"/>.</summary>
    public Tensor Forward(params Tensor[] inputs) => Torch.Cat(inputs, Dim);

    /// <summary>Not used: Concat takes several inputs.</summary>
    public override Tensor Forward(Tensor input)
        => throw new InvalidOperationException("Concat: takes several tensors; call Forward(params Tensor[])");

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}";
}
