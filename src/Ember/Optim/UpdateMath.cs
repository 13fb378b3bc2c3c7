using System.Numerics;

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
}
