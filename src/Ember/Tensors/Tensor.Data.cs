

namespace Ember;

public partial class Tensor
{
    /// <summary>A copy of the elements in row-major order. T must match the dtype (float, double, Half, BFloat16, long, int, sbyte, byte, bool).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var expected = DTypeExtensions.OfElement(typeof(T));
        if (expected != DType)
            throw new InvalidOperationException($"to_array: tensor has dtype {DType.TorchName()}, not {typeof(T).Name}; convert with To() first");
        var src = IsContiguous ? this : Detach().Contiguous();
        return src.storage.As<T>().AsSpan(src.offset, src.NumEl).ToArray();
    }

    /// <summary>The single value of a one-element tensor (torch.Tensor.item).</summary>
    public T Item<T>() where T : unmanaged
    {
        if (NumEl != 1) throw new InvalidOperationException($"item: a Tensor with {NumEl} elements cannot be converted to a scalar (shape {Shape})");
        return To(DTypeExtensions.OfElement(typeof(T))).ToArray<T>()[0];
    }

    /// <summary>The single value as a double.</summary>
    public double Item() => NumEl != 1
        ? throw new InvalidOperationException($"item: a Tensor with {NumEl} elements cannot be converted to a scalar (shape {Shape})")
        : DType switch
        {
            DType.Float32 => storage.As<float>()[offset],
            DType.Float64 => storage.As<double>()[offset],
            DType.Int64 => storage.As<long>()[offset],
            DType.Bool => storage.As<bool>()[offset] ? 1 : 0,
            DType.Float16 => (double)storage.As<Half>()[offset],
            DType.BFloat16 => storage.As<Kernels.Numerics.BFloat16>()[offset],
            DType.Int32 => storage.As<int>()[offset],
            DType.Int8 => storage.As<sbyte>()[offset],
            DType.UInt8 => storage.As<byte>()[offset],
            _ => throw DTypeExtensions.NotSupported("item", DType),
        };

    /// <summary>All elements as doubles in row-major order (handy for tests and printing).</summary>
    public double[] ToDoubleArray() => To(DType.Float64).Detach().ToArray<double>();

    /// <summary>Prints like PyTorch: <c>tensor([[0.2309, 0.2552], ...], grad_fn=&lt;SoftmaxBackward0&gt;)</c>.</summary>
    public override string ToString() => TensorFormatter.Format(this);

}
