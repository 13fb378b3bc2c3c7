using Ember.Kernels.Numerics;

namespace Ember;

/// <summary>Facts about each <see cref="DType"/>: the one place that lists every dtype's size, name, element type and promotion.</summary>
public static class DTypeExtensions
{
    /// <summary>Every dtype, in enum order (for tests and tables).</summary>
    public static readonly DType[] All = Enum.GetValues<DType>();

    /// <summary>True for Float16, BFloat16, Float32 and Float64 (torch.is_floating_point).</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>True for the 16-bit floating types, which Ember stores but computes in float32 (PyTorch's "reduced floating" types).</summary>
    public static bool IsReducedFloat(this DType dtype) => dtype is DType.Float16 or DType.BFloat16;

    /// <summary>True for Int8, UInt8, Int32 and Int64 (bool excluded, as torch's is_integral(includeBool=false)).</summary>
    public static bool IsIntegral(this DType dtype) => dtype is DType.Int64 or DType.Int32 or DType.Int8 or DType.UInt8;

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Float16 or DType.BFloat16 => 2,
        DType.Int8 or DType.UInt8 or DType.Bool => 1,
        _ => throw Unknown(dtype),
    };

    /// <summary>PyTorch's printed name, e.g. "torch.float32".</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.Float32 => "torch.float32",
        DType.Float64 => "torch.float64",
        DType.Int64 => "torch.int64",
        DType.Bool => "torch.bool",
        DType.Float16 => "torch.float16",
        DType.BFloat16 => "torch.bfloat16",
        DType.Int32 => "torch.int32",
        DType.Int8 => "torch.int8",
        DType.UInt8 => "torch.uint8",
        _ => throw Unknown(dtype),
    };

    /// <summary>The .NET element type a storage of this dtype holds.</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int64 => typeof(long),
        DType.Bool => typeof(bool),
        DType.Float16 => typeof(Half),
        DType.BFloat16 => typeof(BFloat16),
        DType.Int32 => typeof(int),
        DType.Int8 => typeof(sbyte),
        DType.UInt8 => typeof(byte),
        _ => throw Unknown(dtype),
    };

    /// <summary>
    /// torch.promote_types: bool &lt; integers &lt; floating; within a category the wider type; float16 with bfloat16 gives
    /// float32. PyTorch gives int16 for uint8 with int8; Ember has no int16, so that pair is an error.
    /// </summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Bool) return b;
        if (b == DType.Bool) return a;
        bool fa = a.IsFloatingPoint(), fb = b.IsFloatingPoint();
        if (fa != fb) return fa ? a : b;
        if (fa)
        {
            if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
            return DType.Float32; // float32 with a half type, or float16 with bfloat16
        }
        int sa = a.ElementSize(), sb = b.ElementSize();
        if (sa != sb) return sa > sb ? a : b;
        throw new NotSupportedException($"promote_types: {a.TorchName()} with {b.TorchName()} promotes to torch.int16 in PyTorch, which Ember does not have; convert one operand with To() first");
    }

    /// <summary>The category torch.result_type compares a 0-d operand against: 0 bool, 1 integer, 2 floating.</summary>
    internal static int Category(this DType dtype) => dtype == DType.Bool ? 0 : dtype.IsFloatingPoint() ? 2 : 1;

    /// <summary>
    /// The dtype a tensor built from .NET values of type <paramref name="t"/> gets. <c>int</c> gives int64 like a Python
    /// int (labels and indices are int64 throughout); use <c>To(DType.Int32)</c> for an int32 tensor.
    /// </summary>
    internal static DType FromClr(Type t) => t == typeof(int) ? DType.Int64 : OfElement(t);

    /// <summary>The dtype whose storage holds exactly <paramref name="t"/> (int is Int32 here): for reading data out.</summary>
    internal static DType OfElement(Type t)
    {
        if (t == typeof(float)) return DType.Float32;
        if (t == typeof(double)) return DType.Float64;
        if (t == typeof(long)) return DType.Int64;
        if (t == typeof(bool)) return DType.Bool;
        if (t == typeof(Half)) return DType.Float16;
        if (t == typeof(BFloat16)) return DType.BFloat16;
        if (t == typeof(int)) return DType.Int32;
        if (t == typeof(sbyte)) return DType.Int8;
        if (t == typeof(byte)) return DType.UInt8;
        throw new NotSupportedException($"tensor: element type {t.Name} is not supported (use float, double, Half, BFloat16, long, int, sbyte, byte or bool)");
    }

    /// <summary>A new array for a storage of this dtype.</summary>
    internal static Array NewArray(this DType dtype, int count, bool zeroed) => dtype switch
    {
        DType.Float32 => zeroed ? new float[count] : GC.AllocateUninitializedArray<float>(count),
        DType.Float64 => zeroed ? new double[count] : GC.AllocateUninitializedArray<double>(count),
        DType.Int64 => zeroed ? new long[count] : GC.AllocateUninitializedArray<long>(count),
        DType.Bool => new bool[count],
        DType.Float16 => zeroed ? new Half[count] : GC.AllocateUninitializedArray<Half>(count),
        DType.BFloat16 => zeroed ? new BFloat16[count] : GC.AllocateUninitializedArray<BFloat16>(count),
        DType.Int32 => zeroed ? new int[count] : GC.AllocateUninitializedArray<int>(count),
        DType.Int8 => zeroed ? new sbyte[count] : GC.AllocateUninitializedArray<sbyte>(count),
        DType.UInt8 => zeroed ? new byte[count] : GC.AllocateUninitializedArray<byte>(count),
        _ => throw Unknown(dtype),
    };

    /// <summary>An error for an op that does not handle <paramref name="dtype"/>: names both, as PyTorch's "not implemented for 'Half'".</summary>
    public static NotSupportedException NotSupported(string op, DType dtype, string? hint = null)
        => new($"{op}: not implemented for {dtype.TorchName()}{(hint is null ? "" : "; " + hint)}");

    /// <summary>
    /// Throws <see cref="NotSupported"/> for bool. For ops composed of others (dropout is a mul, softmin a neg and a
    /// softmax), so that a bool input is refused in the name of the op the user called, not of a part of it.
    /// </summary>
    internal static void RequireNonBool(this DType dtype, string op)
    {
        if (dtype == DType.Bool) throw NotSupported(op, dtype, "convert with To(DType.Float32)");
    }

    /// <summary>Throws <see cref="NotSupported"/> unless <paramref name="dtype"/> is Float32 or Float64: for ops whose kernels exist only there.</summary>
    public static void RequireFloat32Or64(this DType dtype, string op)
    {
        if (dtype is not (DType.Float32 or DType.Float64))
            throw NotSupported(op, dtype, dtype.IsReducedFloat() ? "convert with To(DType.Float32) (or use Autocast)" : "convert with To(DType.Float32)");
    }

    static ArgumentOutOfRangeException Unknown(DType dtype) => new(nameof(dtype), dtype, "unknown dtype");
}
