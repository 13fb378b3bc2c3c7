using System.Collections;

namespace Ember;

/// <summary>An immutable tensor shape (torch.Size). Prints as "[2, 3]".</summary>
public readonly struct Shape : IReadOnlyList<int>, IEquatable<Shape>
{
    readonly int[]? dims;

    /// <summary>A shape with the given extents (copied).</summary>
    public Shape(params int[] dims) => this.dims = (int[])dims.Clone();

    internal static Shape Wrap(int[] dims) => new(dims, wrap: true);
    Shape(int[] dims, bool wrap) => this.dims = dims;

    /// <summary>Extent of dimension <paramref name="index"/>; negative indices count from the end.</summary>
    public int this[int index] => Dims[index < 0 ? index + Dims.Length : index];

    /// <summary>Number of dimensions.</summary>
    public int Count => Dims.Length;

    /// <summary>Number of dimensions (alias of <see cref="Count"/>).</summary>
    public int Rank => Dims.Length;

    /// <summary>Product of the extents (1 for a scalar).</summary>
    public int NumEl { get { int n = 1; foreach (var d in Dims) n *= d; return n; } }

    int[] Dims => dims ?? [];

    /// <summary>A copy of the extents.</summary>
    public int[] ToArray() => (int[])Dims.Clone();

    internal ReadOnlySpan<int> AsSpan() => Dims;

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <inheritdoc/>
    public override int GetHashCode() { var h = new HashCode(); foreach (var d in Dims) h.Add(d); return h.ToHashCode(); }
    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    /// <summary>Shapes convert from int arrays.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>"[2, 3]".</summary>
    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(", ", dims.ToArray()) + "]";
}
