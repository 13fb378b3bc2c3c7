namespace Ember.Nn;

/// <summary>A convolution's padding: explicit sizes, or <see cref="Same"/> (output size = input size at stride 1) and <see cref="Valid"/> (none), as PyTorch's padding='same' / 'valid'.</summary>
public readonly record struct ConvPadding(int H, int W, bool IsSame = false)
{
    /// <summary>Pads so that a stride-1 convolution keeps the spatial size (asymmetric when the total is odd, extra on the right/bottom).</summary>
    public static ConvPadding Same => new(0, 0, true);
    /// <summary>No padding.</summary>
    public static ConvPadding Valid => new(0, 0);
    /// <summary>The same padding on both sides of every spatial dim.</summary>
    public static implicit operator ConvPadding(int p) => new(p, p);
    /// <summary>(height, width) padding.</summary>
    public static implicit operator ConvPadding((int H, int W) p) => new(p.H, p.W);
    /// <inheritdoc/>
    public override string ToString() => IsSame ? "same" : H == W ? $"({H}, {W})" : $"({H}, {W})";
}
