namespace Ember.Analysis;

/// <summary>
/// Bytes as a line in the number of samples (see <see cref="MemoryProbe"/>): <paramref name="Fixed"/> whatever the
/// batch (the weights' gradients, per-step buffers) plus <paramref name="PerSample"/> for each sample.
/// </summary>
public sealed record MemoryLine(double Fixed, double PerSample)
{
    /// <summary>The bytes at <paramref name="samples"/> samples (a fraction scales, e.g. by an image area ratio).</summary>
    public double At(double samples) => Fixed + PerSample * samples;
}
