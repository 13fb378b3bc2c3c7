namespace Ember.Kernels.Loops;

/// <summary>
/// Walks a <see cref="StridedLayout"/> run by run from any flat output position, keeping each operand's element
/// offset up to date, so a range [start, end) can be processed on its own (the unit of parallel work).
/// </summary>
public struct StridedCursor
{
    readonly StridedLayout layout;
    readonly int[] index;
    readonly int[] offsets;

    /// <summary>Positions the cursor at flat output index <paramref name="start"/>, with operand base offsets.</summary>
    public StridedCursor(StridedLayout layout, int start, ReadOnlySpan<int> baseOffsets)
    {
        this.layout = layout;
        index = new int[layout.Rank];
        offsets = baseOffsets.ToArray();
        if (layout.Count == 0) return; // nothing to walk (a zero extent would divide by zero below)
        int rem = start;
        for (int d = layout.Rank - 1; d >= 0; d--)
        {
            int i = rem % layout.Shape[d];
            rem /= layout.Shape[d];
            index[d] = i;
            for (int k = 0; k < offsets.Length; k++) offsets[k] += i * layout.Strides[k][d];
        }
    }

    /// <summary>Current element offset of operand <paramref name="k"/>.</summary>
    public readonly int Offset(int k) => offsets[k];

    /// <summary>Elements left in the current innermost run, at most <paramref name="limit"/>.</summary>
    public readonly int RunLength(int limit)
        => layout.Rank == 0 ? Math.Min(1, limit) : Math.Min(layout.Shape[^1] - index[^1], limit);

    /// <summary>Moves forward by <paramref name="length"/> elements, which must not pass the end of the current run.</summary>
    public void Advance(int length)
    {
        int rank = layout.Rank;
        if (rank == 0) return;
        int d = rank - 1;
        index[d] += length;
        for (int k = 0; k < offsets.Length; k++) offsets[k] += length * layout.Strides[k][d];
        while (d > 0 && index[d] == layout.Shape[d])
        {
            for (int k = 0; k < offsets.Length; k++) offsets[k] -= layout.Shape[d] * layout.Strides[k][d];
            index[d] = 0;
            d--;
            index[d]++;
            for (int k = 0; k < offsets.Length; k++) offsets[k] += layout.Strides[k][d];
        }
    }
}
