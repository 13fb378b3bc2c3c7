namespace Ember.Models;

/// <summary>The recurrent layer of a <see cref="RecurrentForecaster"/>.</summary>
public enum RecurrentCellType
{
    /// <summary><see cref="Nn.Layers.Recurrent.LSTM"/>.</summary>
    Lstm,
    /// <summary><see cref="Nn.Layers.Recurrent.GRU"/>.</summary>
    Gru,
}
