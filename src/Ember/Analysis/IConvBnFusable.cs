namespace Ember.Analysis;

/// <summary>
/// A module whose forward calls convolution → batch norm pairs through fields (not a Sequential), so
/// <see cref="Fusion.FuseModel"/> cannot rewire it from outside. It fuses its own pairs (with
/// <see cref="Fusion.TryFusePair"/>) and returns how many it fused; calling it again fuses nothing.
/// </summary>
internal interface IConvBnFusable
{
    int FuseConvBn();
}
