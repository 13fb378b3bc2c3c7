using Ember.Nn;

namespace Ember.Training.Callbacks;

/// <summary>
/// Freezes a submodule (typically a pretrained backbone) for the first <see cref="Epochs"/> epochs, then trains it:
/// its parameters stop requiring grad, so they receive no gradient and the optimizer skips them.
/// </summary>
public sealed class FreezeBackbone(Module backbone, int epochs) : Callback
{
    /// <summary>Epochs during which the backbone stays frozen.</summary>
    public int Epochs { get; } = epochs >= 0 ? epochs : throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "FreezeBackbone: epochs must be non-negative");

    /// <inheritdoc/>
    public override void OnEpochStart(TrainerState state) => backbone.RequiresGrad(state.Epoch > Epochs);
}
