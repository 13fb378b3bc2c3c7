namespace Ember.Distributed;

/// <summary>Element types a collective moves.</summary>
internal enum CommType { Byte, Float32, Float64, Int64 }

/// <summary>
/// A contiguous run of elements in a managed array that a collective reads or writes. <see cref="Owner"/> keeps the
/// tensor whose storage this is alive until the collective completes (a pooled storage would otherwise hand its array
/// back to the pool while MPI still writes into it).
/// </summary>
internal readonly record struct CommBuffer(Array Array, int Offset, int Count, CommType Type, object? Owner)
{
    public int ElementSize => Type switch { CommType.Byte => 1, CommType.Float32 => 4, _ => 8 };

    public static CommBuffer Of(byte[] bytes) => new(bytes, 0, bytes.Length, CommType.Byte, null);

    public static CommBuffer Of(long[] values) => new(values, 0, values.Length, CommType.Int64, null);

    /// <summary>The elements of a contiguous tensor; <paramref name="op"/> and <paramref name="role"/> name it in errors.</summary>
    public static CommBuffer Of(Tensor tensor, string op, string role = "tensor")
    {
        if (!tensor.IsContiguous)
            throw new ArgumentException($"{op}: {role} must be contiguous (shape {tensor.Shape}, strides [{string.Join(", ", tensor.Strides)}]); call Contiguous() first");
        var type = tensor.DType switch
        {
            DType.Float32 => CommType.Float32,
            DType.Float64 => CommType.Float64,
            DType.Int64 => CommType.Int64,
            _ => throw new ArgumentException($"{op}: {role} has dtype {tensor.DType.TorchName()}; collectives support float32, float64 and int64"),
        };
        return new CommBuffer(tensor.storage.Data, tensor.StorageOffset, tensor.NumEl, type, tensor);
    }
}
