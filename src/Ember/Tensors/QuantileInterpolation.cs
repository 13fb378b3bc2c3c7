namespace Ember;

/// <summary>How <see cref="Tensor.Quantile(double, int?, bool, QuantileInterpolation)"/> picks a value between two order statistics (torch.quantile interpolation=).</summary>
public enum QuantileInterpolation
{
    /// <summary>below + (above − below)·fraction (the default).</summary>
    Linear,
    /// <summary>The lower order statistic.</summary>
    Lower,
    /// <summary>The higher order statistic.</summary>
    Higher,
    /// <summary>Their mean.</summary>
    Midpoint,
    /// <summary>The nearer one, halves rounding to the even rank.</summary>
    Nearest,
}
