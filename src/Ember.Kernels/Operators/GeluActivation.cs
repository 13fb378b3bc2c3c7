using System.Runtime.CompilerServices;

namespace Ember.Kernels.Operators;

/// <summary>
/// GELU, exact form: y = x·½·(1 + erf(x/√2)), dx = g·(Φ(x) + x·φ(x)). In float each lane rounds like PyTorch's scalar
/// steps (t = x·√½ in float, erf(t) in float, then ½x·(1 + erf)), with the single-precision erf.
/// </summary>
public readonly struct GeluActivation : IActivation
{
    const double SqrtHalf = 0.70710678118654752440;
    const double Beta = 0.39894228040143267794;   // 1/√(2π)

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
        => x * TVec.Create(0.5f) * (TVec.One + VectorErf.ErfSingle(x * TVec.Create((float)SqrtHalf)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float>
    {
        var cdf = TVec.Create(0.5f) * (TVec.One + VectorErf.ErfSingle(x * TVec.Create((float)SqrtHalf)));
        var pdf = VectorErf.ExpSmallSingle<TVec, float>(TVec.Create(-0.5f) * x * x) * TVec.Create((float)Beta);
        return g * (cdf + x * pdf);
    }

    /// <inheritdoc/>
    public static double Forward(double x) => x * 0.5 * (1 + ErrorFunction.Erf(x * SqrtHalf));

    /// <inheritdoc/>
    public static double Backward(double g, double x) => g * (0.5 * (1 + ErrorFunction.Erf(x * SqrtHalf)) + x * Math.Exp(-0.5 * x * x) * Beta);
}
