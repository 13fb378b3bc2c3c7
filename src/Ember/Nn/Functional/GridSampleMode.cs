namespace Ember.Nn.Functional;

/// <summary>How <see cref="F.GridSample"/> interpolates (torch.nn.functional.grid_sample mode=).</summary>
public enum GridSampleMode
{
    /// <summary>Weighted mean of the four nearest pixels (eight voxels, trilinear, for 5-D input); the default.</summary>
    Bilinear,
    /// <summary>The nearest pixel, halves rounding to even; no gradient for the grid.</summary>
    Nearest,
    /// <summary>Cubic convolution (A = −0.75) over the 4×4 neighbouring pixels, 4-D input only (mode='bicubic').</summary>
    Bicubic,
}
