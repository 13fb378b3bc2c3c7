using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Operators;

/// <summary>A <see cref="Vector256{T}"/> as an <see cref="ISimd{TSelf, T}"/> (AVX2 + FMA).</summary>
public readonly unsafe struct Simd256<T>(Vector256<T> value) : ISimd<Simd256<T>, T> where T : unmanaged
{
    /// <summary>The register.</summary>
    public readonly Vector256<T> Value = value;

    /// <inheritdoc/>
    public static int Count => Vector256<T>.Count;
    /// <inheritdoc/>
    public static bool IsSupported => Vector256<T>.IsSupported;
    /// <inheritdoc/>
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;
    /// <inheritdoc/>
    public static Simd256<T> Zero => new(Vector256<T>.Zero);
    /// <inheritdoc/>
    public static Simd256<T> One => new(Vector256<T>.One);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Create(T value) => new(Vector256.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Load(T* source) => new(Vector256.Load(source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> LoadPartial(T* source, int count)
    {
        Vector256<T> v = default;
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<Vector256<T>, byte>(ref v), ref *(byte*)source, (uint)(count * sizeof(T)));
        return new(v);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(T* destination) => Value.Store(destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StorePartial(T* destination, int count)
    {
        Vector256<T> v = Value;
        Unsafe.CopyBlockUnaligned(ref *(byte*)destination, ref Unsafe.As<Vector256<T>, byte>(ref v), (uint)(count * sizeof(T)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreAlignedNonTemporal(T* destination) => Value.StoreAlignedNonTemporal(destination);

    /// <inheritdoc/>
    public T ToScalar() => Value.ToScalar();
    /// <inheritdoc/>
    public T GetElement(int index) => Value.GetElement(index);

#pragma warning disable CS1591
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator +(Simd256<T> left, Simd256<T> right) => new(left.Value + right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> left, Simd256<T> right) => new(left.Value - right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator *(Simd256<T> left, Simd256<T> right) => new(left.Value * right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator /(Simd256<T> left, Simd256<T> right) => new(left.Value / right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator -(Simd256<T> value) => new(-value.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator &(Simd256<T> left, Simd256<T> right) => new(left.Value & right.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Simd256<T> operator |(Simd256<T> left, Simd256<T> right) => new(left.Value | right.Value);
#pragma warning restore CS1591

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> FusedMultiplyAdd(Simd256<T> left, Simd256<T> right, Simd256<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector256.FusedMultiplyAdd(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector256.FusedMultiplyAdd(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> MultiplyAddEstimate(Simd256<T> left, Simd256<T> right, Simd256<T> addend)
    {
        if (typeof(T) == typeof(float))
            return new(Vector256.MultiplyAddEstimate(left.Value.As<T, float>(), right.Value.As<T, float>(), addend.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double))
            return new(Vector256.MultiplyAddEstimate(left.Value.As<T, double>(), right.Value.As<T, double>(), addend.Value.As<T, double>()).As<double, T>());
        return new(left.Value * right.Value + addend.Value);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Exp(Simd256<T> value)
    {
        if (typeof(T) == typeof(float)) return new(Vector256.Exp(value.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double)) return new(Vector256.Exp(value.Value.As<T, double>()).As<double, T>());
        throw new NotSupportedException($"Simd256.Exp: {typeof(T).Name} is not float or double");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> Sqrt(Simd256<T> value) => new(Vector256.Sqrt(value.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> MaxNative(Simd256<T> left, Simd256<T> right) => new(Vector256.MaxNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> MinNative(Simd256<T> left, Simd256<T> right) => new(Vector256.MinNative(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ConditionalSelect(Simd256<T> mask, Simd256<T> left, Simd256<T> right)
    {
        // one vblendvps/pd: through this wrapper the JIT emitted and, andnot, or for Vector256.ConditionalSelect
        if (typeof(T) == typeof(float) && Avx.IsSupported)
            return new(Avx.BlendVariable(right.Value.As<T, float>(), left.Value.As<T, float>(), mask.Value.As<T, float>()).As<float, T>());
        if (typeof(T) == typeof(double) && Avx.IsSupported)
            return new(Avx.BlendVariable(right.Value.As<T, double>(), left.Value.As<T, double>(), mask.Value.As<T, double>()).As<double, T>());
        return new(Vector256.ConditionalSelect(mask.Value, left.Value, right.Value));
    }
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> AndNot(Simd256<T> left, Simd256<T> right) => new(Vector256.AndNot(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> GreaterThan(Simd256<T> left, Simd256<T> right) => new(Vector256.GreaterThan(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> GreaterThanOrEqual(Simd256<T> left, Simd256<T> right) => new(Vector256.GreaterThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> LessThanOrEqual(Simd256<T> left, Simd256<T> right) => new(Vector256.LessThanOrEqual(left.Value, right.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256<T> ShiftLeftBits(Simd256<T> value, int count)
    {
        if (sizeof(T) == 4) return new(Vector256.ShiftLeft(value.Value.As<T, uint>(), count).As<uint, T>());
        if (sizeof(T) == 8) return new(Vector256.ShiftLeft(value.Value.As<T, ulong>(), count).As<ulong, T>());
        throw new NotSupportedException($"Simd256.ShiftLeftBits: {typeof(T).Name} lanes");
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Simd256<T> value) => Vector256.Sum(value.Value);
}
