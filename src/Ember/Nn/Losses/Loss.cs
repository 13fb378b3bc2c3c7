namespace Ember.Nn.Losses;

/// <summary>
/// Base of the loss modules (torch.nn.modules.loss._Loss): a module whose <see cref="Forward(Tensor, Tensor)"/> is one
/// call into <c>F</c>. Options such as weights live in the module (weights as buffers, so they follow the state dict).
/// </summary>
public abstract class Loss : Module
{
    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);
}
