namespace Ember.Nn;

/// <summary>Which fan Kaiming initialization preserves (PyTorch's mode='fan_in' | 'fan_out').</summary>
public enum FanMode
{
    /// <summary>Preserve the variance of activations in the forward pass.</summary>
    FanIn,
    /// <summary>Preserve the variance of gradients in the backward pass.</summary>
    FanOut,
}
