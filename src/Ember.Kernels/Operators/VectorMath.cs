using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Operators;

/// <summary>Element-generic vector helpers for kernels written once for float and double.</summary>
public static class VectorMath
{
    /// <summary>
    /// x·y + acc rounded once (a hardware FMA on AVX-512). The typeof tests fold away in each JIT instantiation; other
    /// element types get the unfused form.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> FusedMultiplyAdd<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
        return x * y + acc;
    }
}
