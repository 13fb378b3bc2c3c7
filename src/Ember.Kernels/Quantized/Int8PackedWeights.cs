namespace Ember.Kernels.Quantized;

/// <summary>
/// A weight matrix W [n, k] of signed 8-bit integers laid out for <see cref="Int8Gemm"/>: output channels in blocks of
/// 8 (an even number of blocks: the GEMM's tiles cover 16 channels), and within a block, for each group of 4 consecutive k, the 4 bytes of channel 0, then channel 1, … (32 bytes).
/// That is the operand shape of one 256-bit u8×s8 dot-product instruction (vpdpbusd): 8 int32 lanes, each the dot
/// product of 4 bytes. k is padded to a multiple of 4 and n to a multiple of 16 with zeros, which add nothing.
/// </summary>
public sealed class Int8PackedWeights
{
    /// <summary>Output channels (n).</summary>
    public int Rows { get; }
    /// <summary>Input features (k).</summary>
    public int Columns { get; }
    /// <summary>k rounded up to a multiple of 4: the row length of the quantized activations the GEMM reads.</summary>
    public int PaddedColumns { get; }
    /// <summary>Blocks of 8 channels.</summary>
    public int Blocks { get; }

    internal readonly sbyte[] Data;
    /// <summary>Σ_k W[j, k] per channel, for the activation zero-point correction: Σ (a − z)·w = Σ a·w − z·Σ w.</summary>
    internal readonly int[] RowSums;

    Int8PackedWeights(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        PaddedColumns = (columns + 3) & ~3;
        Blocks = (rows + 15) / 16 * 2;
        Data = new sbyte[Blocks * PaddedColumns * 8];
        RowSums = new int[Blocks * 8];
    }

    /// <summary>The bytes this layout holds (the weights' memory once quantized).</summary>
    public long ByteCount => Data.LongLength + RowSums.LongLength * sizeof(int);

    /// <summary>Packs the row-major [<paramref name="rows"/>, <paramref name="columns"/>] matrix <paramref name="weights"/>.</summary>
    public static Int8PackedWeights Pack(ReadOnlySpan<sbyte> weights, int rows, int columns)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Int8PackedWeights.Pack: shape [{rows}, {columns}] must be non-negative");
        if (weights.Length != (long)rows * columns)
            throw new ArgumentException($"Int8PackedWeights.Pack: expected {(long)rows * columns} values for [{rows}, {columns}], got {weights.Length}", nameof(weights));
        var packed = new Int8PackedWeights(rows, columns);
        int groups = packed.PaddedColumns / 4;
        for (int j = 0; j < rows; j++)
        {
            int block = j / 8, lane = j % 8, sum = 0;
            var row = weights.Slice(j * columns, columns);
            for (int k = 0; k < columns; k++)
            {
                packed.Data[((block * groups + k / 4) * 8 + lane) * 4 + k % 4] = row[k];
                sum += row[k];
            }
            packed.RowSums[j] = sum;
        }
        return packed;
    }

    /// <summary>W[<paramref name="row"/>, <paramref name="column"/>], read back from the packed layout.</summary>
    public sbyte this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)column >= (uint)Columns)
                throw new ArgumentOutOfRangeException(nameof(row), $"Int8PackedWeights: index [{row}, {column}] is outside [{Rows}, {Columns}]");
            return Data[((row / 8 * (PaddedColumns / 4) + column / 4) * 8 + row % 8) * 4 + column % 4];
        }
    }
}
