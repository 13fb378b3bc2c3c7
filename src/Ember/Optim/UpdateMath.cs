using System.Numerics;
using System.Runtime.CompilerServices;
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

    // Vector forms of the same steps, lane by lane: the update rules run them over whole vectors at the widest
    // hardware-accelerated width (SimdPath) and finish the tail with the scalar code, and every lane rounds exactly like
    // the scalar expression it replaces (ISimd.FusedMultiplyAdd is the hardware FMA, as T.FusedMultiplyAdd).

    /// <summary>
    /// Whether the rules take the vector path for <typeparamref name="T"/>: float and double on a CPU with a hardware FMA
    /// (x86 with FMA3, ARM64). Without one (.NET emulates FusedMultiplyAdd per lane, slower than the scalar loop's
    /// software fma) the scalar rule runs alone; it rounds the same.
    /// </summary>
    public static bool Vectorized<T>() => (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && HardwareFma;

    static readonly bool HardwareFma = System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;

    /// <summary>torch.lerp's two forms, chosen once for the whole tensor since the weight is a scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Lerp<TVec, T>(TVec start, TVec end, T weight, T oneMinusWeight)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
        => T.Abs(weight) < Cast<T>(0.5)
            ? TVec.FusedMultiplyAdd(end - start, TVec.Create(weight), start)
            : TVec.FusedMultiplyAdd(-(end - start), TVec.Create(oneMinusWeight), end);
}
