namespace Ember.Nn;

/// <summary>A tensor that a module owns and an optimizer updates (torch.nn.Parameter). It requires grad by default.</summary>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/>'s storage (detached) as a leaf parameter.</summary>
    public Parameter(Tensor data, bool requiresGrad = true) : base(data.storage, data.shape, data.strides, data.offset)
    {
        if (requiresGrad) RequiresGrad = true;
    }
}
