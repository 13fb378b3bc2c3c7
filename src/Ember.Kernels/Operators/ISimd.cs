namespace Ember.Kernels.Operators;

/// <summary>
/// One SIMD register of <typeparamref name="T"/> at a fixed width (<see cref="Simd128{T}"/>, <see cref="Simd256{T}"/>,
/// <see cref="Simd512{T}"/>), so that a kernel is written once, generic over <typeparamref name="TSelf"/>, and the JIT
/// compiles one specialised copy per width (.NET's own ISimdVector is not public). <see cref="SimdPath"/> picks the width.
/// </summary>
public unsafe interface ISimd<TSelf, T> where TSelf : struct, ISimd<TSelf, T> where T : unmanaged
{
    /// <summary>Lanes per register.</summary>
    static abstract int Count { get; }

    /// <summary>Whether <typeparamref name="T"/> is a lane type .NET vectors support (not Half, for example).</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Whether this width runs on hardware instructions (else .NET emulates it, slowly).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>All lanes one.</summary>
    static abstract TSelf One { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TSelf Create(T value);

    /// <summary>Count lanes from <paramref name="source"/> (any alignment).</summary>
    static abstract TSelf Load(T* source);

    /// <summary>The first <paramref name="count"/> lanes from <paramref name="source"/>, the others zero (for tails).</summary>
    static abstract TSelf LoadPartial(T* source, int count);

    /// <summary>Count lanes to <paramref name="destination"/> (any alignment).</summary>
    void Store(T* destination);

    /// <summary>The first <paramref name="count"/> lanes to <paramref name="destination"/> (for tails).</summary>
    void StorePartial(T* destination, int count);

    /// <summary>
    /// Count lanes to <paramref name="destination"/>, which must be aligned to the register's size, with a non-temporal
    /// store: no read of the line before the write, and the line not kept in cache (for outputs larger than the caches).
    /// </summary>
    void StoreAlignedNonTemporal(T* destination);

    /// <summary>Lane 0.</summary>
    T ToScalar();

    /// <summary>Lane <paramref name="index"/>.</summary>
    T GetElement(int index);

#pragma warning disable CS1591 // the operators are the lane-wise ones of Vector128/256/512
    static abstract TSelf operator +(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf left, TSelf right);
    static abstract TSelf operator *(TSelf left, TSelf right);
    static abstract TSelf operator /(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf value);
    static abstract TSelf operator &(TSelf left, TSelf right);
    static abstract TSelf operator |(TSelf left, TSelf right);
#pragma warning restore CS1591

    /// <summary>left·right + addend rounded once for float and double (hardware FMA where the width has it); unfused for other types.</summary>
    static abstract TSelf FusedMultiplyAdd(TSelf left, TSelf right, TSelf addend);

    /// <summary>left·right + addend, fused where the CPU has FMA and two roundings where it has not (never emulated).</summary>
    static abstract TSelf MultiplyAddEstimate(TSelf left, TSelf right, TSelf addend);

    /// <summary>e^x per lane (float and double).</summary>
    static abstract TSelf Exp(TSelf value);

    /// <summary>√x per lane (correctly rounded).</summary>
    static abstract TSelf Sqrt(TSelf value);

    /// <summary>The hardware maximum (x86 maxps: the second operand when either is NaN); for reductions whose NaN shows elsewhere.</summary>
    static abstract TSelf MaxNative(TSelf left, TSelf right);

    /// <summary>The hardware minimum (x86 minps: the second operand when either is NaN).</summary>
    static abstract TSelf MinNative(TSelf left, TSelf right);

    /// <summary>
    /// Lanes of <paramref name="left"/> where <paramref name="mask"/> is set, else of <paramref name="right"/>; each mask
    /// lane all ones or all zeros, as a comparison gives (x86 takes one blend on the mask's sign bits).
    /// </summary>
    static abstract TSelf ConditionalSelect(TSelf mask, TSelf left, TSelf right);

    /// <summary>left &amp; ~right.</summary>
    static abstract TSelf AndNot(TSelf left, TSelf right);

    /// <summary>All-ones lanes where left &gt; right.</summary>
    static abstract TSelf GreaterThan(TSelf left, TSelf right);

    /// <summary>All-ones lanes where left ≥ right.</summary>
    static abstract TSelf GreaterThanOrEqual(TSelf left, TSelf right);

    /// <summary>All-ones lanes where left ≤ right.</summary>
    static abstract TSelf LessThanOrEqual(TSelf left, TSelf right);

    /// <summary>Each lane's bit pattern shifted left by <paramref name="count"/> as an unsigned integer of the lane's size (float: uint, double: ulong).</summary>
    static abstract TSelf ShiftLeftBits(TSelf value, int count);

    /// <summary>Σ lanes (in .NET's fixed pairwise order).</summary>
    static abstract T Sum(TSelf value);
}
