namespace Ember.Kernels.Loops;

/// <summary>
/// The iteration space of an elementwise kernel: an output shape walked in row-major order and, per operand, the
/// element strides that map an output index to that operand (0 on broadcast dimensions). Dimensions of size 1 are
/// dropped and dimensions that are contiguous in every operand are merged, so most loops end up with one long run.
/// </summary>
public sealed class StridedLayout
{
    /// <summary>Collapsed extents, outermost first.</summary>
    public readonly int[] Shape;
    /// <summary>Strides[operand][dim], aligned with <see cref="Shape"/>.</summary>
    public readonly int[][] Strides;
    /// <summary>Number of elements in the iteration space.</summary>
    public readonly int Count;

    /// <summary>Builds the collapsed layout; <paramref name="operandStrides"/> are aligned with <paramref name="shape"/>.</summary>
    public StridedLayout(ReadOnlySpan<int> shape, params int[][] operandStrides)
    {
        int rank = shape.Length, count = 1;
        for (int d = 0; d < rank; d++) count *= shape[d];
        Count = count;
        var dims = new List<int>(rank);
        for (int d = 0; d < rank; d++) if (shape[d] != 1) dims.Add(d);
        // merge from the innermost dimension outwards
        var mergedShape = new List<int>(dims.Count);
        var mergedStrides = new List<int>[operandStrides.Length];
        for (int k = 0; k < operandStrides.Length; k++) mergedStrides[k] = new List<int>(dims.Count);
        for (int i = dims.Count - 1; i >= 0; i--)
        {
            int d = dims[i];
            int last = mergedShape.Count - 1;
            bool merge = last >= 0;
            for (int k = 0; merge && k < operandStrides.Length; k++)
                merge = operandStrides[k][d] == mergedStrides[k][last] * mergedShape[last];
            if (merge)
            {
                mergedShape[last] *= shape[d];
            }
            else
            {
                mergedShape.Add(shape[d]);
                for (int k = 0; k < operandStrides.Length; k++) mergedStrides[k].Add(operandStrides[k][d]);
            }
        }
        mergedShape.Reverse();
        Shape = mergedShape.ToArray();
        Strides = new int[operandStrides.Length][];
        for (int k = 0; k < operandStrides.Length; k++) { mergedStrides[k].Reverse(); Strides[k] = mergedStrides[k].ToArray(); }
    }

    /// <summary>Rank after collapsing (0 for a single element).</summary>
    public int Rank => Shape.Length;

    /// <summary>Length of the innermost run.</summary>
    public int InnerLength => Shape.Length == 0 ? 1 : Shape[^1];

    /// <summary>Stride of <paramref name="operand"/> along the innermost run.</summary>
    public int InnerStride(int operand) => Shape.Length == 0 ? 0 : Strides[operand][^1];
}
