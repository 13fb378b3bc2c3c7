using System.Runtime.CompilerServices;

namespace Ember.Kernels.Operators;

/// <summary>
/// GELU, tanh approximation (torch.nn.functional.gelu(approximate='tanh')): y = ½x·(1 + tanh(z)),
/// z = √(2/π)·(x + 0.044715x³). Since ½(1 + tanh z) = σ(2z), the float path computes y = x·σ(2z) = x / (1 + e^(−2z)):
/// one exp and one division, and no cancellation in 1 + tanh for negative x.
/// dx = g·(σ + x·2σ(1 − σ)·√(2/π)·(1 + 3·0.044715x²)) with σ = σ(2z).
/// </summary>
public readonly struct GeluTanhActivation : IActivation
{
    const double K = 0.79788456080286535588;   // √(2/π)
    const double C = 0.044715;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Forward<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
    {
        var (p, scale) = VectorErf.ExpClampedSingle(MinusTwoZ(x), negated: false);
        return x / TVec.MultiplyAddEstimate(p, scale, TVec.One);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Backward<TVec>(TVec g, TVec x) where TVec : struct, ISimd<TVec, float>
    {
        var x2 = x * x;
        var (p, scale) = VectorErf.ExpClampedSingle(MinusTwoZ(x), negated: false);
        var e = p * scale;
        var s = TVec.One / TVec.MultiplyAddEstimate(p, scale, TVec.One);
        // dz/dx = √(2/π)·(1 + 3c·x²); the derivative of σ(2z) is 2σ(1 − σ)·dz/dx
        var dz = TVec.MultiplyAddEstimate(x2, TVec.Create((float)(2 * K * 3 * C)), TVec.Create((float)(2 * K)));
        return g * TVec.MultiplyAddEstimate(x * s * SiluActivation.OneMinus(s, e), dz, s);
    }

    // −2z = x·(−2√(2/π) − 2√(2/π)·c·x²)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec MinusTwoZ<TVec>(TVec x) where TVec : struct, ISimd<TVec, float>
        => x * TVec.MultiplyAddEstimate(x * x, TVec.Create((float)(-2 * K * C)), TVec.Create((float)(-2 * K)));

    /// <inheritdoc/>
    public static double Forward(double x) => 0.5 * x * (1 + Math.Tanh(K * (x + C * x * x * x)));

    /// <inheritdoc/>
    public static double Backward(double g, double x)
    {
        double t = Math.Tanh(K * (x + C * x * x * x));
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * C * x * x));
    }
}
