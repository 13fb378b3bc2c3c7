namespace Ember.Nn.Functional;

/// <summary>What <see cref="F.GridSample"/> reads outside the input (torch.nn.functional.grid_sample padding_mode=).</summary>
public enum GridSamplePadding
{
    /// <summary>Zeros (the default).</summary>
    Zeros,
    /// <summary>The nearest border pixel: coordinates clamped into the image.</summary>
    Border,
    /// <summary>Coordinates reflected at the borders, then clamped.</summary>
    Reflection,
}
