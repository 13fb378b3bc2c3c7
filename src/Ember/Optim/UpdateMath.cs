using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Optim;

/// <summary>
/// Scalar pieces shared by the update rules, written to round like libtorch's CPU kernels: hyper-parameters are cast
/// to the element type first, <c>add(x, alpha)</c> and <c>lerp</c> use a fused multiply-add (as its vectorized path does).
/// </summary>
internal static class UpdateMath
{
    public static T Cast<T>(double v) where T : IFloatingPointIeee754<T> => T.CreateTruncating(v);

    /// <summary>a + alpha·b (torch.add with alpha).</summary>
    public static T AddScaled<T>(T a, T b, T alpha) where T : IFloatingPointIeee754<T> => T.FusedMultiplyAdd(b, alpha, a);

    /// <summary>start + weight·(end − start), or end − (end − start)·(1 − weight) for weight ≥ ½ (torch.lerp).</summary>
    public static T Lerp<T>(T start, T end, T weight, T oneMinusWeight) where T : IFloatingPointIeee754<T>
        => T.Abs(weight) < Cast<T>(0.5) ? T.FusedMultiplyAdd(end - start, weight, start) : T.FusedMultiplyAdd(-(end - start), oneMinusWeight, end);

    public static Span<T> SpanOf<T>(Tensor? t) => t == null ? Span<T>.Empty : t.Span<T>();

    // Vector forms of the same steps, lane by lane: the update rules run them over whole vectors and finish the tail with
    // the scalar code, and every lane rounds exactly like the scalar expression it replaces.

    /// <summary>Whether the rules take the vector path for <typeparamref name="T"/>.</summary>
    public static bool Vectorized<T>() => Vector512.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load<T>(ReadOnlySpan<T> span, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Vector512<T> value, Span<T> span, int i) => value.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)i);

    /// <summary>torch.lerp's two forms, chosen once for the whole tensor since the weight is a scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Lerp<T>(Vector512<T> start, Vector512<T> end, T weight, T oneMinusWeight) where T : IFloatingPointIeee754<T>
        => T.Abs(weight) < Cast<T>(0.5)
            ? VectorMath.FusedMultiplyAdd(end - start, Vector512.Create(weight), start)
            : VectorMath.FusedMultiplyAdd(-(end - start), Vector512.Create(oneMinusWeight), end);
}
