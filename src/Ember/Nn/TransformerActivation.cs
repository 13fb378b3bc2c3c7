namespace Ember.Nn;

/// <summary>The feed-forward activation of a transformer layer (PyTorch's activation='relu' | 'gelu').</summary>
public enum TransformerActivation
{
    /// <summary>ReLU (the default).</summary>
    Relu,
    /// <summary>Exact GELU.</summary>
    Gelu,
}
