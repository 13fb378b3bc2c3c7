namespace Ember.Nn;

/// <summary>
/// A 2-D size argument (height, width) that accepts an int or a pair, as PyTorch's <c>_size_2_t</c>: an int n means (n, n).
/// Used for kernel size, stride, padding, dilation and output padding wherever PyTorch takes "int or tuple".
/// </summary>
public readonly record struct Size2(int H, int W)
{
    /// <summary>The same size along both spatial dims.</summary>
    public static implicit operator Size2(int n) => new(n, n);
    /// <summary>(height, width).</summary>
    public static implicit operator Size2((int H, int W) p) => new(p.H, p.W);
    /// <summary>The pair as a tuple, for the ops that take (H, W).</summary>
    public static implicit operator (int H, int W)(Size2 s) => (s.H, s.W);
    /// <summary>Whether both dims are equal (PyTorch prints such a size as one int in some reprs).</summary>
    public bool IsSquare => H == W;
    /// <inheritdoc/>
    public override string ToString() => $"({H}, {W})";
}
