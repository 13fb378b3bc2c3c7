namespace Ember.Kernels.Operators;

/// <summary>The error function to double precision: a Taylor series near zero and a continued fraction for erfc in the tails.</summary>
public static class ErrorFunction
{
    const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            // Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)); at |x| < 2.5 the largest term is ~70, so ~1e-14 absolute error remains.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 100; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return TwoOverSqrtPi * sum;
        }
        if (ax > 6) return Math.Sign(x);
        double erfc = ErfcContinuedFraction(ax);
        return x > 0 ? 1 - erfc : erfc - 1;
    }

    // erfc(x) = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated by the modified Lentz method (x ≥ 2.5).
    static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int i = 1; i < 200; i++)
        {
            double a = i * 0.5;
            d = x + a * d; if (d == 0) d = tiny; d = 1 / d;
            c = x + a / c; if (c == 0) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / (f * Math.Sqrt(Math.PI));
    }
}
