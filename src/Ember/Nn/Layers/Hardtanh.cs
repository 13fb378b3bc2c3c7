using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>clamp(x, min_val, max_val) (torch.nn.Hardtanh).</summary>
public sealed class Hardtanh : Module
{
    /// <summary>Lower bound.</summary>
    public double MinVal { get; }
    /// <summary>Upper bound.</summary>
    public double MaxVal { get; }

    /// <summary>Creates the layer; max_val must not be below min_val.</summary>
    public Hardtanh(double minVal = -1, double maxVal = 1)
    {
        if (maxVal < minVal) throw new ArgumentException($"Hardtanh: max_val ({maxVal}) cannot be less than min_val ({minVal})");
        (MinVal, MaxVal) = (minVal, maxVal);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Hardtanh(input, MinVal, MaxVal);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"min_val={PyRepr.Float(MinVal)}, max_val={PyRepr.Float(MaxVal)}";
}
