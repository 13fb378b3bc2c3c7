namespace Ember.Nn;

/// <summary>Upsampling modes of <see cref="Functional.F.Interpolate"/> (PyTorch's mode='nearest' | 'bilinear').</summary>
public enum InterpolationMode
{
    /// <summary>Copy the nearest source pixel (index ⌊dst·in/out⌋).</summary>
    Nearest,
    /// <summary>Bilinear interpolation (align_corners selects the source-coordinate rule).</summary>
    Bilinear,
}
