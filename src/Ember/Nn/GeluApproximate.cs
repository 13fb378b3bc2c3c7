namespace Ember.Nn;

/// <summary>GELU's form (PyTorch's approximate='none' | 'tanh').</summary>
public enum GeluApproximate
{
    /// <summary>Exact: x·Φ(x) = x·½(1 + erf(x/√2)).</summary>
    None,
    /// <summary>½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    Tanh,
}
