namespace Ember;

/// <summary>One entry of a Python-style index: an int, a range, a stepped slice, "..." or None (new axis).</summary>
public readonly struct TensorIndex
{
    enum Kind { Int, Slice, Ellipsis, NewAxis }
    readonly Kind kind;
    readonly int index;
    readonly int? start, stop;
    readonly int step;

    TensorIndex(Kind kind, int index = 0, int? start = null, int? stop = null, int step = 1)
    { this.kind = kind; this.index = index; this.start = start; this.stop = stop; this.step = step; }

    /// <summary>start:stop:step; null bounds mean the ends.</summary>
    public static TensorIndex Slice(int? start = null, int? stop = null, int step = 1) => new(Kind.Slice, start: start, stop: stop, step: step);
    /// <summary>Python's "..." (all remaining dims).</summary>
    public static TensorIndex Ellipsis { get; } = new(Kind.Ellipsis);
    /// <summary>Python's None: inserts a size-1 dim.</summary>
    public static TensorIndex NewAxis { get; } = new(Kind.NewAxis);

    /// <summary>An integer index selects (and removes) a dim.</summary>
    public static implicit operator TensorIndex(int i) => new(Kind.Int, index: i);
    /// <summary>A C# index (^1 is the last).</summary>
    public static implicit operator TensorIndex(Index i) => new(Kind.Int, index: i.IsFromEnd ? -i.Value : i.Value);
    /// <summary>A C# range a..b slices.</summary>
    public static implicit operator TensorIndex(Range r) => new(Kind.Slice,
        start: r.Start.IsFromEnd ? (r.Start.Value == 0 ? int.MaxValue : -r.Start.Value) : r.Start.Value,
        stop: r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value);

    /// <summary>
    /// Parses a Python index expression: comma-separated ints, slices "start:stop:step" (any part may be empty),
    /// "..." and "None", e.g. "..., ::2, 1::2" or "0, :, -1". Errors name the offending part.
    /// </summary>
    public static TensorIndex[] Parse(string expression)
    {
        var parts = expression.Split(',');
        var result = new TensorIndex[parts.Length];
        for (int k = 0; k < parts.Length; k++)
        {
            var p = parts[k].Trim();
            if (p == "...") result[k] = Ellipsis;
            else if (p == "None") result[k] = NewAxis;
            else if (p.Contains(':'))
            {
                var f = p.Split(':');
                if (f.Length > 3) throw new ArgumentException($"index \"{expression}\": \"{p}\" has more than two colons");
                int? start = Bound(f[0], p, expression), stop = Bound(f[1], p, expression);
                int step = f.Length == 3 && f[2].Trim().Length > 0 ? Bound(f[2], p, expression)!.Value : 1;
                if (step <= 0) throw new ArgumentException($"index \"{expression}\": step must be greater than zero in \"{p}\" (as in PyTorch)");
                result[k] = Slice(start, stop, step);
            }
            else result[k] = Bound(p, p, expression) ?? throw new ArgumentException($"index \"{expression}\": empty index at position {k}");
        }
        return result;
    }

    static int? Bound(string text, string part, string expression)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        return int.TryParse(text, out int v) ? v
            : throw new ArgumentException($"index \"{expression}\": \"{part}\" is not an int, a slice, \"...\" or \"None\"");
    }

    internal static Tensor Apply(Tensor x, TensorIndex[] indices)
    {
        int consumed = indices.Count(i => i.kind is Kind.Int or Kind.Slice);
        if (indices.Count(i => i.kind == Kind.Ellipsis) > 1) throw new ArgumentException("index: an index can only have a single ellipsis");
        if (consumed > x.Rank) throw new IndexOutOfRangeException($"index: too many indices for tensor of dimension {x.Rank} (got {consumed})");
        var result = x;
        int dim = 0;
        foreach (var ix in indices)
        {
            switch (ix.kind)
            {
                case Kind.Int: result = result.Select(dim, ix.index); break;
                case Kind.Slice:
                    int size = result.Size(dim);
                    int s = ix.start ?? 0, e = ix.stop ?? size;
                    if (s == int.MaxValue) s = size;
                    result = result.Slice(dim, s, e, ix.step);
                    dim++;
                    break;
                case Kind.NewAxis: result = result.Unsqueeze(dim); dim++; break;
                case Kind.Ellipsis: dim += x.Rank - consumed; break;
            }
        }
        return result;
    }
}
