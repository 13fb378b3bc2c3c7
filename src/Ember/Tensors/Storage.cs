using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// The flat buffer behind one or more tensors. Views share it; the version counter counts in-place writes so that
/// autograd can detect a tensor that was modified after being saved for backward.
/// </summary>
internal sealed class Storage
{
    public readonly Array Data;
    public readonly DType DType;
    public int Version;

    public Storage(Array data, DType dtype) { Data = data; DType = dtype; }

    public int Length => Data.Length;

    public static Storage Allocate(DType dtype, int count, bool zeroed) => dtype switch
    {
        DType.Float32 => new Storage(zeroed ? new float[count] : GC.AllocateUninitializedArray<float>(count), dtype),
        DType.Float64 => new Storage(zeroed ? new double[count] : GC.AllocateUninitializedArray<double>(count), dtype),
        DType.Int64 => new Storage(zeroed ? new long[count] : GC.AllocateUninitializedArray<long>(count), dtype),
        _ => new Storage(new bool[count], dtype),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T[] As<T>() => Unsafe.As<T[]>(Data);
}
