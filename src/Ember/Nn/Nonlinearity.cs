namespace Ember.Nn;

/// <summary>The nonlinearity whose recommended gain <see cref="Init.CalculateGain"/> returns (torch.nn.init.calculate_gain).</summary>
public enum Nonlinearity
{
    /// <summary>Gain 1.</summary>
    Linear,
    /// <summary>Gain 1 (any convolution).</summary>
    Conv,
    /// <summary>Gain 1.</summary>
    Sigmoid,
    /// <summary>Gain 5/3.</summary>
    Tanh,
    /// <summary>Gain √2.</summary>
    Relu,
    /// <summary>Gain √(2 / (1 + slope²)), slope 0.01 unless given.</summary>
    LeakyRelu,
    /// <summary>Gain 3/4.</summary>
    Selu,
}
