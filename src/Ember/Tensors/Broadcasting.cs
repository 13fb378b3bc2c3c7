namespace Ember;

/// <summary>NumPy/PyTorch broadcasting of shapes.</summary>
internal static class Broadcasting
{
    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/>, or an error naming the op and the offending dim.</summary>
    public static int[] Shape(int[] a, int[] b, string op)
    {
        if (a.AsSpan().SequenceEqual(b)) return (int[])a.Clone();
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int da = i <= a.Length ? a[^i] : 1, db = i <= b.Length ? b[^i] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Ember.Shape.Format(a)} and {Ember.Shape.Format(b)} cannot be broadcast " +
                    $"(the size of dim {rank - i} must match: {da} != {db})");
            result[rank - i] = da == 1 ? db : da;
        }
        return result;
    }
}
