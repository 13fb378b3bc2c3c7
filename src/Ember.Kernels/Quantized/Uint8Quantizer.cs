using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Quantized;

/// <summary>
/// Float32 → uint8 affine quantization of activation rows for <see cref="Int8Gemm"/>: q = clamp(round(z + x/s), 0, 255)
/// with x/s computed as x·(1/s) in float32 and the zero point added before rounding to nearest even, as fbgemm's
/// <c>Quantize</c> (its default, "legacy" form) does for <c>quantized::linear_dynamic</c>.
/// </summary>
public static class Uint8Quantizer
{
    /// <summary>The smallest and largest value of <paramref name="values"/> (TensorPrimitives; NaN if any value is NaN).</summary>
    public static (float Min, float Max) MinMax(ReadOnlySpan<float> values)
        => values.IsEmpty ? (0f, 0f) : (TensorPrimitives.Min(values), TensorPrimitives.Max(values));

    /// <summary>
    /// Quantizes the row-major [<paramref name="rows"/>, <paramref name="columns"/>] matrix <paramref name="x"/> into
    /// <paramref name="q"/> with row length <paramref name="paddedColumns"/>, writing zeros in the padding.
    /// </summary>
    public static void QuantizeRows(ReadOnlySpan<float> x, int rows, int columns, float scale, int zeroPoint, Span<byte> q, int paddedColumns)
    {
        if (paddedColumns < columns) throw new ArgumentOutOfRangeException(nameof(paddedColumns), paddedColumns, $"Uint8Quantizer: padded row length must be at least {columns}");
        if (x.Length < (long)rows * columns || q.Length < (long)rows * paddedColumns)
            throw new ArgumentException($"Uint8Quantizer: [{rows}, {columns}] into [{rows}, {paddedColumns}] needs {(long)rows * columns} inputs and {(long)rows * paddedColumns} outputs, got {x.Length} and {q.Length}");
        float inverse = 1f / scale, zero = zeroPoint;
        for (int r = 0; r < rows; r++)
        {
            var source = x.Slice(r * columns, columns);
            var target = q.Slice(r * paddedColumns, paddedColumns);
            int c = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var vi = Vector256.Create(inverse);
                var vz = Vector256.Create(zero);
                var lo = Vector256<float>.Zero;
                var hi = Vector256.Create(255f);
                for (; c <= columns - 8; c += 8)
                {
                    var v = Vector256.FusedMultiplyAdd(Vector256.Create(source.Slice(c, 8)), vi, vz);
                    var rounded = Vector256.Min(Vector256.Max(Vector256.Round(v), lo), hi); // Round: to nearest even
                    var words = Vector256.Narrow(Vector256.ConvertToInt32(rounded).AsUInt32(), Vector256<uint>.Zero);
                    var bytes = Vector256.Narrow(words, Vector256<ushort>.Zero); // the first 8 bytes hold the 8 results
                    System.Runtime.InteropServices.MemoryMarshal.Write(target.Slice(c, 8), bytes.AsUInt64().GetElement(0));
                }
            }
            for (; c < columns; c++)
                target[c] = (byte)Math.Clamp(MathF.Round(MathF.FusedMultiplyAdd(source[c], inverse, zero), MidpointRounding.ToEven), 0f, 255f);
            target[columns..].Clear();
        }
    }
}
