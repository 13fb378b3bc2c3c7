using System.Runtime.Intrinsics;

namespace Ember.Kernels.Operators;

/// <summary>
/// A vectorized erf evaluated in double precision, for float32 tensors: erf(x) = x·P(x²) for |x| ≤ 1 and
/// 1 − e^(−x²)·R(1/x) for 1 &lt; |x| &lt; 6 (±1 beyond), P and R Chebyshev interpolants (tools/fit/erf_chebyshev.py,
/// relative error below 2e-14), so the float result is the correctly rounded erf in practice — what PyTorch's
/// float kernels aim for too. Branch-free: both pieces are computed and blended per lane.
/// </summary>
public static class VectorErf
{
    // Chebyshev coefficients of erf(x)/x on t = x² ∈ [0, 1] and of erfc(x)·e^(x²) on u = 1/x ∈ [1/6, 1].
    static readonly double[] Small =
    [
        0.975476939382654, -0.14226120510371357, 0.010035582187599701, -0.000576876469976469, 2.7419931251900415e-05,
        -1.1043175508484993e-06, 3.8488755405019504e-08, -1.1808584665651267e-09, 3.233398733944644e-11,
        -7.98463147451874e-13, 1.8013368574543165e-14, -6.337523098901935e-16,
    ];
    static readonly double[] Large =
    [
        0.27477468589795295, 0.16699329119310402, -0.014778434908201323, 0.0004607660043735337, 0.00017657967835401262,
        -5.02698406424208e-05, 7.427013355629538e-06, -3.5188112197350983e-07, -1.7150112884463847e-07,
        6.70662304672979e-08, -1.4316589422457158e-08, 1.7595568250884497e-09, 7.452134434229564e-11,
        -1.1543783136182106e-10, 3.887346386146875e-11, -8.506389265811659e-12, 1.1356155213723992e-12,
        1.125353668276732e-14,
    ];
    const double LargeLow = 1.0 / 6, LargeScale = 2 / (1 - LargeLow), LargeShift = (1 + LargeLow) / (1 - LargeLow);

    /// <summary>erf of 8 doubles (NaN stays NaN, ±∞ gives ±1, −0 gives −0).</summary>
    public static Vector512<double> Erf(Vector512<double> x)
    {
        var signBit = Vector512.Create(-0.0);
        var ax = Vector512.AndNot(x, signBit);
        var one = Vector512<double>.One;

        var t = x * x;
        var small = x * Clenshaw(Small, t + t - one);

        var u = one / ax;
        var erfc = Vector512.Exp(-t) * Clenshaw(Large, u * Vector512.Create(LargeScale) - Vector512.Create(LargeShift));
        var large = (one - erfc) | (x & signBit);

        var saturated = one | (x & signBit);
        var result = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(ax, Vector512.Create(6.0)), saturated, large);
        return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(ax, one), small, result);
    }

    /// <summary>The same function on one double (used for tails; agrees with the vector path bit for bit).</summary>
    public static double Erf(double x) => Erf(Vector512.Create(x)).ToScalar();

    /// <summary>dst[i] = erf(x[i]) for float32, evaluated in double and rounded once. dst may alias x.</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> dst)
    {
        int i = 0;
        for (; i <= x.Length - 16; i += 16)
        {
            var (lo, hi) = Vector512.Widen(Vector512.Create(x.Slice(i, 16)));
            Vector512.Narrow(Erf(lo), Erf(hi)).CopyTo(dst.Slice(i, 16));
        }
        for (; i < x.Length; i++) dst[i] = (float)Erf((double)x[i]);
    }

    // Σ c_j T_j(s) for s ∈ [−1, 1] (Clenshaw's recurrence).
    static Vector512<double> Clenshaw(double[] c, Vector512<double> s)
    {
        var twoS = s + s;
        Vector512<double> b1 = Vector512<double>.Zero, b2 = Vector512<double>.Zero;
        for (int j = c.Length - 1; j >= 1; j--)
        {
            var b0 = twoS * b1 - b2 + Vector512.Create(c[j]);
            b2 = b1;
            b1 = b0;
        }
        return s * b1 - b2 + Vector512.Create(c[0]);
    }
}
