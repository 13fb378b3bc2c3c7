using System.Numerics;

namespace Ember.Kernels.Operators;

/// <summary>Scalar definitions of the primitives; the vectorized paths are tested against these.</summary>
public static class ScalarMath
{
    /// <summary>The unary primitive <paramref name="op"/> applied to one value.</summary>
    public static T Unary<T>(UnaryOp op, T x) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Abs => T.Abs(x),
        UnaryOp.Sign => T.IsNaN(x) ? x : T.CreateTruncating(T.Sign(x)),
        UnaryOp.Exp => T.Exp(x),
        UnaryOp.Log => T.Log(x),
        UnaryOp.Log1p => T.CreateTruncating(Log1p(double.CreateTruncating(x))),
        UnaryOp.Expm1 => T.CreateTruncating(Expm1(double.CreateTruncating(x))),
        UnaryOp.Sqrt => T.Sqrt(x),
        UnaryOp.Rsqrt => T.One / T.Sqrt(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => T.One / x,
        UnaryOp.Sin => T.Sin(x),
        UnaryOp.Cos => T.Cos(x),
        UnaryOp.Tanh => T.Tanh(x),
        UnaryOp.Sigmoid => T.One / (T.One + T.Exp(-x)),
        UnaryOp.Relu => x > T.Zero ? x : (T.IsNaN(x) ? x : T.Zero),
        UnaryOp.Erf => T.CreateTruncating(ErrorFunction.Erf(double.CreateTruncating(x))),
        UnaryOp.Floor => T.Floor(x),
        UnaryOp.Ceil => T.Ceiling(x),
        UnaryOp.Round => T.Round(x, MidpointRounding.ToEven),
        UnaryOp.Trunc => T.Truncate(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op"),
    };

    // .NET's LogP1/ExpM1 are log(1 + x) and exp(x) − 1 computed naively (float.LogP1(1e-8f) is 0), which defeats their
    // purpose; these are the classic accurate forms (Goldberg's log1p, Kahan's expm1), a few ulps in double.

    /// <summary>log(1 + x), accurate near 0.</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        if (double.IsInfinity(u) || u <= 0) return Math.Log(u);
        return Math.Log(u) * x / (u - 1);
    }

    /// <summary>eˣ − 1, accurate near 0.</summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) > 0.5) return Math.Exp(x) - 1;
        double u = Math.Exp(x);
        if (u == 1) return x;
        return (u - 1) * x / Math.Log(u);
    }

    /// <summary>The binary primitive <paramref name="op"/> applied to one pair. Maximum/Minimum propagate NaN as PyTorch does.</summary>
    public static T Binary<T>(BinaryOp op, T x, T y) where T : unmanaged, INumber<T> => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Pow => Pow(x, y),
        BinaryOp.Maximum => T.IsNaN(x) || T.IsNaN(y) ? x + y : T.Max(x, y),
        BinaryOp.Minimum => T.IsNaN(x) || T.IsNaN(y) ? x + y : T.Min(x, y),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown binary op"),
    };

    static T Pow<T>(T x, T y) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.Pow((float)(object)x, (float)(object)y);
        if (typeof(T) == typeof(double)) return (T)(object)Math.Pow((double)(object)x, (double)(object)y);
        // integer power by squaring; negative exponents truncate toward zero as integer division does
        long b = long.CreateTruncating(x), e = long.CreateTruncating(y), r = 1;
        if (e < 0) return T.CreateTruncating(b == 1 ? 1 : b == -1 ? ((e & 1) == 0 ? 1 : -1) : 0);
        while (e > 0) { if ((e & 1) == 1) r *= b; b *= b; e >>= 1; }
        return T.CreateTruncating(r);
    }

    /// <summary>The comparison <paramref name="op"/> of one pair.</summary>
    public static bool Compare<T>(CompareOp op, T x, T y) where T : unmanaged, INumber<T> => op switch
    {
        CompareOp.Eq => x == y,
        CompareOp.Ne => x != y,
        CompareOp.Lt => x < y,
        CompareOp.Le => x <= y,
        CompareOp.Gt => x > y,
        CompareOp.Ge => x >= y,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown comparison"),
    };
}
