namespace Ember.Kernels.Operators;

/// <summary>The pointwise activations with a fused forward and backward kernel (<see cref="Loops.ActivationKernel"/>).</summary>
public enum Activation
{
    /// <summary>GELU, exact form: x·Φ(x) = x·½·(1 + erf(x/√2)).</summary>
    Gelu,

    /// <summary>GELU, tanh approximation: ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))).</summary>
    GeluTanh,

    /// <summary>SiLU (Swish): x·σ(x).</summary>
    Silu,
}
