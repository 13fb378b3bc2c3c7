using System.Runtime.CompilerServices;

namespace Ember.Kernels.Operators;

/// <summary>SiLU (torch.nn.functional.silu): y = x·σ(x) = x / (1 + e^(−x)), dx = g·σ(x)·(1 + x·(1 − σ(x))).</summary>
public readonly struct SiluActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
    {
        var (p, scale) = VectorErf.ExpClampedSingle(x, negated: true);
        return x / TVec.MultiplyAddEstimate(p, scale, TVec.One);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float>
    {
        var (p, scale) = VectorErf.ExpClampedSingle(x, negated: true);
        var e = p * scale;
        var s = TVec.One / TVec.MultiplyAddEstimate(p, scale, TVec.One);
        return g * s * TVec.MultiplyAddEstimate(x, OneMinus(s, e), TVec.One);
    }

    /// <summary>
    /// 1 − σ for σ = 1/(1 + e): e·σ where σ &gt; ½ (1 − σ would cancel there, and e ≤ 1 is finite), else 1 − σ (exact
    /// enough, and e may be infinite).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVec OneMinus<TVec>(TVec s, TVec e) where TVec : struct, ISimd<TVec, float>
        => TVec.ConditionalSelect(TVec.GreaterThan(s, TVec.Create(0.5f)), e * s, TVec.One - s);

    /// <inheritdoc/>
    public static double Forward(double x) => x / (1 + Math.Exp(-x));

    /// <inheritdoc/>
    public static double Backward(double g, double x)
    {
        double s = 1 / (1 + Math.Exp(-x));
        return g * s * (1 + x * (1 - s));
    }
}
