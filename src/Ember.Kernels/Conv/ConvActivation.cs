namespace Ember.Kernels.Conv;

/// <summary>The activation a fused convolution applies to its output (see <see cref="Conv2dKernel.ForwardFused"/>).</summary>
public enum ConvActivation
{
    /// <summary>No activation: y = conv·scale + shift.</summary>
    None,

    /// <summary>ReLU: y = max(conv·scale + shift, 0), NaN kept.</summary>
    Relu,

    /// <summary>SiLU: y = v·σ(v) for v = conv·scale + shift.</summary>
    Silu,
}
