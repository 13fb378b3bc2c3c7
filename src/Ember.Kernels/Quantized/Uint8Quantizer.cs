using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Ember.Kernels.Threading;

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
    public static unsafe void QuantizeRows(ReadOnlySpan<float> x, int rows, int columns, float scale, int zeroPoint, Span<byte> q, int paddedColumns)
    {
        if (paddedColumns < columns) throw new ArgumentOutOfRangeException(nameof(paddedColumns), paddedColumns, $"Uint8Quantizer: padded row length must be at least {columns}");
        if (x.Length < (long)rows * columns || q.Length < (long)rows * paddedColumns)
            throw new ArgumentException($"Uint8Quantizer: [{rows}, {columns}] into [{rows}, {paddedColumns}] needs {(long)rows * columns} inputs and {(long)rows * paddedColumns} outputs, got {x.Length} and {q.Length}");
        fixed (float* px = x)
        fixed (byte* pq = q)
        {
            var job = new RowJob { X = px, Q = pq, Columns = columns, PaddedColumns = paddedColumns, Inverse = 1f / scale, Zero = zeroPoint };
            // each row is independent: about 64k values per chunk
            ParallelRange.For(rows, Math.Max(1, 65536 / Math.Max(columns, 1)), job);
        }
    }

    unsafe struct RowJob : IRangeAction
    {
        public float* X;
        public byte* Q;
        public int Columns, PaddedColumns;
        public float Inverse, Zero;

        public readonly void Invoke(int start, int end)
        {
            for (int r = start; r < end; r++)
                Row(new ReadOnlySpan<float>(X + (long)r * Columns, Columns), new Span<byte>(Q + (long)r * PaddedColumns, PaddedColumns));
        }

        readonly void Row(ReadOnlySpan<float> source, Span<byte> target)
        {
            int c = 0, columns = source.Length;
            if (Vector256.IsHardwareAccelerated)
            {
                var vi = Vector256.Create(Inverse);
                var vz = Vector256.Create(Zero);
                var lo = Vector256<float>.Zero;
                var hi = Vector256.Create(255f);
                for (; c <= columns - 32; c += 32)
                {
                    // four groups of 8, narrowed together: int32 → uint16 → byte keeps the element order
                    var i0 = Quantize(Vector256.Create(source.Slice(c, 8)), vi, vz, lo, hi);
                    var i1 = Quantize(Vector256.Create(source.Slice(c + 8, 8)), vi, vz, lo, hi);
                    var i2 = Quantize(Vector256.Create(source.Slice(c + 16, 8)), vi, vz, lo, hi);
                    var i3 = Quantize(Vector256.Create(source.Slice(c + 24, 8)), vi, vz, lo, hi);
                    Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).CopyTo(target.Slice(c, 32));
                }
            }
            for (; c < columns; c++)
                target[c] = (byte)Math.Clamp(MathF.Round(MathF.FusedMultiplyAdd(source[c], Inverse, Zero), MidpointRounding.ToEven), 0f, 255f);
            target[columns..].Clear();
        }

        static Vector256<uint> Quantize(Vector256<float> x, Vector256<float> inverse, Vector256<float> zero, Vector256<float> lo, Vector256<float> hi)
            => Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.FusedMultiplyAdd(x, inverse, zero)), lo), hi)).AsUInt32();
    }
}
