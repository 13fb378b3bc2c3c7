namespace Ember.Nn.Functional;

/// <summary>
/// The stateless functional API (torch.nn.functional): activations, linear and convolution, pooling, normalization
/// with given statistics, dropout with an explicit training flag, attention and losses. Modules are thin wrappers that
/// own parameters and call these. Split into partial files by concern (F.Activations.cs, F.Losses.cs, …).
/// </summary>
public static partial class F
{
}
