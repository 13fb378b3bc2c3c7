using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Average pooling layer (torch.nn.AvgPool2d).</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, kernelSize, stride ?? kernelSize, padding, ceilMode, countIncludePad, divisorOverride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";
}
