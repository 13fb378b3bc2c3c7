namespace Ember.Nn.Functional;

/// <summary>How <see cref="F.GridSample"/> interpolates (torch.nn.functional.grid_sample mode=).</summary>
public enum GridSampleMode
{
    /// <summary>Weighted mean of the four nearest pixels (the default).</summary>
    Bilinear,
    /// <summary>The nearest pixel, halves rounding to even; no gradient for the grid.</summary>
    Nearest,
}
