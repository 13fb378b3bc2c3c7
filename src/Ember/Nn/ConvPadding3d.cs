namespace Ember.Nn;

/// <summary>A 3-d convolution's padding: explicit (depth, height, width) sizes, or <see cref="Same"/> / <see cref="Valid"/> as PyTorch's padding='same' / 'valid'.</summary>
public readonly record struct ConvPadding3d(int D, int H, int W, bool IsSame = false)
{
    /// <summary>Pads so that a stride-1 convolution keeps the spatial size (asymmetric when a total is odd, the extra one at the end).</summary>
    public static ConvPadding3d Same => new(0, 0, 0, true);
    /// <summary>No padding.</summary>
    public static ConvPadding3d Valid => new(0, 0, 0);
    /// <summary>The same padding on both sides of every spatial dim.</summary>
    public static implicit operator ConvPadding3d(int p) => new(p, p, p);
    /// <summary>(depth, height, width) padding.</summary>
    public static implicit operator ConvPadding3d((int D, int H, int W) p) => new(p.D, p.H, p.W);
    /// <inheritdoc/>
    public override string ToString() => IsSame ? "same" : $"({D}, {H}, {W})";
}
