using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Operators;

/// <summary>A <see cref="Vector512{T}"/> as an <see cref="ISimd{TSelf, T}"/> (AVX-512).</summary>
public readonly unsafe struct Simd512<T>(Vector512<T> value) : ISimd<Simd512<T>, T> where T : unmanaged
{
    /// <summary>The register.</summary>
    public readonly Vector512<T> Value = value;

    /// <inheritdoc/>
    public static int Count => Vector512<T>.Count;
    /// <inheritdoc/>
    public static bool IsSupported => Vector512<T>.IsSupported;
    /// <inheritdoc/>
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;
    /// <inheritdoc/>
    public static Simd512<T> Zero => new(Vector512<T>.Zero);
    /// <inheritdoc/>
    public static Simd512<T> One => new(Vector512<T>.One);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Create(T value) => new(Vector512.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Load(T* source) => new(Vector512.Load(source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> LoadPartial(T* source, int count)
    {
        Vector512<T> v = default;
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<Vector512<T>, byte>(ref v), ref *(byte*)source, (uint)(count * sizeof(T)));
        return new(v);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(T* destination) => Value.Store(destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StorePartial(T* destination, int count)
    {
        Vector512<T> v = Value;
        Unsafe.CopyBlockUnaligned(ref *(byte*)destination, ref Unsafe.As<Vector512<T>, byte>(ref v), (uint)(count * sizeof(T)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreAlignedNonTemporal(T* destination) => Value.StoreAlignedNonTemporal(destination);

    /// <inheritdoc/>
    public T ToScalar() => Value.ToScalar();
    /// <inheritdoc/>
    public T GetElement(int index) => Value.GetElement(index);

#pragma warning disable CS1591
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator +(Simd512<T> left, Simd512<T> right) => new(left.Value + right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> left, Simd512<T> right) => new(left.Value - right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator *(Simd512<T> left, Simd512<T> right) => new(left.Value * right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator /(Simd512<T> left, Simd512<T> right) => new(left.Value / right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator -(Simd512<T> value) => new(-value.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator &(Simd512<T> left, Simd512<T> right) => new(left.Value & right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd512<T> operator |(Simd512<T> left, Simd512<T> right) => new(left.Value | right.Value);
#pragma warning restore CS1591

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> FusedMultiplyAdd(Simd512<T> left, Simd512<T> right, Simd512<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector512.FusedMultiplyAdd(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector512.FusedMultiplyAdd(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> MultiplyAddEstimate(Simd512<T> left, Simd512<T> right, Simd512<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector512.MultiplyAddEstimate(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector512.MultiplyAddEstimate(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Exp(Simd512<T> value)
    {
        if (typeof(T) == typeof(float)) return new(Vector512.Exp(value.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double)) return new(Vector512.Exp(value.Value.As<T, double>()).As<double, T>());
        throw new NotSupportedException($"Simd512.Exp: {typeof(T).Name} is not float or double");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> Sqrt(Simd512<T> value) => new(Vector512.Sqrt(value.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> MaxNative(Simd512<T> left, Simd512<T> right) => new(Vector512.MaxNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> MinNative(Simd512<T> left, Simd512<T> right) => new(Vector512.MinNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ConditionalSelect(Simd512<T> mask, Simd512<T> left, Simd512<T> right) => new(Vector512.ConditionalSelect(mask.Value, left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> AndNot(Simd512<T> left, Simd512<T> right) => new(Vector512.AndNot(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> GreaterThan(Simd512<T> left, Simd512<T> right) => new(Vector512.GreaterThan(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> GreaterThanOrEqual(Simd512<T> left, Simd512<T> right) => new(Vector512.GreaterThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> LessThanOrEqual(Simd512<T> left, Simd512<T> right) => new(Vector512.LessThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512<T> ShiftLeftBits(Simd512<T> value, int count)
    {
        if (sizeof(T) == 4) return new(Vector512.ShiftLeft(value.Value.As<T, uint>(), count).As<uint, T>());
        if (sizeof(T) == 8) return new(Vector512.ShiftLeft(value.Value.As<T, ulong>(), count).As<ulong, T>());
        throw new NotSupportedException($"Simd512.ShiftLeftBits: {typeof(T).Name} lanes");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Simd512<T> value) => Vector512.Sum(value.Value);
}
