namespace Ember.Analysis;

/// <summary>The spatial geometry of one sliding-window layer along one axis (a conv or pool).</summary>
/// <param name="Name">Layer name or path.</param>
/// <param name="Kernel">Window size k.</param>
/// <param name="Stride">Step s.</param>
/// <param name="Padding">Padding p on each side.</param>
/// <param name="Dilation">Spacing d between window taps: the window spans d·(k − 1) + 1 inputs.</param>
/// <param name="CeilMode">Whether the output size rounds up (pooling's ceil_mode).</param>
public sealed record LayerGeometry(string Name, int Kernel, int Stride = 1, int Padding = 0, int Dilation = 1, bool CeilMode = false)
{
    /// <summary>d·(k − 1) + 1.</summary>
    public int EffectiveKernel => Dilation * (Kernel - 1) + 1;
}
