using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Operators;

/// <summary>A <see cref="Vector128{T}"/> as an <see cref="ISimd{TSelf, T}"/> (SSE or NEON).</summary>
public readonly unsafe struct Simd128<T>(Vector128<T> value) : ISimd<Simd128<T>, T> where T : unmanaged
{
    /// <summary>The register.</summary>
    public readonly Vector128<T> Value = value;

    /// <inheritdoc/>
    public static int Count => Vector128<T>.Count;
    /// <inheritdoc/>
    public static bool IsSupported => Vector128<T>.IsSupported;
    /// <inheritdoc/>
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported;
    /// <inheritdoc/>
    public static Simd128<T> Zero => new(Vector128<T>.Zero);
    /// <inheritdoc/>
    public static Simd128<T> One => new(Vector128<T>.One);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Create(T value) => new(Vector128.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Load(T* source) => new(Vector128.Load(source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> LoadPartial(T* source, int count)
    {
        Vector128<T> v = default;
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<Vector128<T>, byte>(ref v), ref *(byte*)source, (uint)(count * sizeof(T)));
        return new(v);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(T* destination) => Value.Store(destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StorePartial(T* destination, int count)
    {
        Vector128<T> v = Value;
        Unsafe.CopyBlockUnaligned(ref *(byte*)destination, ref Unsafe.As<Vector128<T>, byte>(ref v), (uint)(count * sizeof(T)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreAlignedNonTemporal(T* destination) => Value.StoreAlignedNonTemporal(destination);

    /// <inheritdoc/>
    public T ToScalar() => Value.ToScalar();
    /// <inheritdoc/>
    public T GetElement(int index) => Value.GetElement(index);

#pragma warning disable CS1591
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator +(Simd128<T> left, Simd128<T> right) => new(left.Value + right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(Simd128<T> left, Simd128<T> right) => new(left.Value - right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator *(Simd128<T> left, Simd128<T> right) => new(left.Value * right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator /(Simd128<T> left, Simd128<T> right) => new(left.Value / right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator -(Simd128<T> value) => new(-value.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator &(Simd128<T> left, Simd128<T> right) => new(left.Value & right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd128<T> operator |(Simd128<T> left, Simd128<T> right) => new(left.Value | right.Value);
#pragma warning restore CS1591

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> FusedMultiplyAdd(Simd128<T> left, Simd128<T> right, Simd128<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector128.FusedMultiplyAdd(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector128.FusedMultiplyAdd(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> MultiplyAddEstimate(Simd128<T> left, Simd128<T> right, Simd128<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector128.MultiplyAddEstimate(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector128.MultiplyAddEstimate(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Exp(Simd128<T> value)
    {
        if (typeof(T) == typeof(float)) return new(Vector128.Exp(value.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double)) return new(Vector128.Exp(value.Value.As<T, double>()).As<double, T>());
        throw new NotSupportedException($"Simd128.Exp: {typeof(T).Name} is not float or double");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> Sqrt(Simd128<T> value) => new(Vector128.Sqrt(value.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> MaxNative(Simd128<T> left, Simd128<T> right) => new(Vector128.MaxNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> MinNative(Simd128<T> left, Simd128<T> right) => new(Vector128.MinNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ConditionalSelect(Simd128<T> mask, Simd128<T> left, Simd128<T> right)
    {
        // one (v)blendvps/pd: through this wrapper the JIT emitted and, andnot, or for Vector128.ConditionalSelect
        if (typeof(T) == typeof(float) && Sse41.IsSupported)
            return new(Sse41.BlendVariable(right.Value.As<T, float>(), left.Value.As<T, float>(), mask.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double) && Sse41.IsSupported)
            return new(Sse41.BlendVariable(right.Value.As<T, double>(), left.Value.As<T, double>(), mask.Value.As<T, double>()).As<double, T>());
        return new(Vector128.ConditionalSelect(mask.Value, left.Value, right.Value));
    }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> AndNot(Simd128<T> left, Simd128<T> right) => new(Vector128.AndNot(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> GreaterThan(Simd128<T> left, Simd128<T> right) => new(Vector128.GreaterThan(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> GreaterThanOrEqual(Simd128<T> left, Simd128<T> right) => new(Vector128.GreaterThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> LessThanOrEqual(Simd128<T> left, Simd128<T> right) => new(Vector128.LessThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128<T> ShiftLeftBits(Simd128<T> value, int count)
    {
        if (sizeof(T) == 4) return new(Vector128.ShiftLeft(value.Value.As<T, uint>(), count).As<uint, T>());
        if (sizeof(T) == 8) return new(Vector128.ShiftLeft(value.Value.As<T, ulong>(), count).As<ulong, T>());
        throw new NotSupportedException($"Simd128.ShiftLeftBits: {typeof(T).Name} lanes");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Simd128<T> value) => Vector128.Sum(value.Value);
}
