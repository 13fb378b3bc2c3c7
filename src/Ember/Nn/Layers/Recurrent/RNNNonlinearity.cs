namespace Ember.Nn.Layers.Recurrent;

/// <summary>The nonlinearity of an Elman <see cref="RNN"/> or <see cref="RNNCell"/> (PyTorch's nonlinearity='tanh' / 'relu').</summary>
public enum RNNNonlinearity
{
    /// <summary>h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh), the default.</summary>
    Tanh,
    /// <summary>h' = relu(W_ih·x + b_ih + W_hh·h + b_hh).</summary>
    Relu,
}
