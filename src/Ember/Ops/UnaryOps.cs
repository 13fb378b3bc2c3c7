using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Operators;

namespace Ember.Ops;

/// <summary>Elementwise unary ops: forward is one primitive, backward sits on the next line.</summary>
internal static class UnaryOps
{
    static Tensor Prim(UnaryOp op, Tensor x) => Backend.Of(x).Unary(op, x);
    static Tensor Floating(Tensor x) => x.DType.IsFloatingPoint() ? x : x.To(DType.Float32);

    public static Tensor Neg(Tensor x) => Recording.Unary(Prim(UnaryOp.Neg, x), "NegBackward0", x, g => g.Neg());
    public static Tensor Abs(Tensor x) => Recording.Unary(Prim(UnaryOp.Abs, x), "AbsBackward0", x, g => g * x.Sign(), x);
    public static Tensor Sign(Tensor x) => Recording.Unary(Prim(UnaryOp.Sign, x), "SignBackward0", x, g => Torch.ZerosLike(g));

    public static Tensor Exp(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Exp, x); return Recording.Unary(y, "ExpBackward0", x, g => g * y, y); }
    public static Tensor Log(Tensor x) { x = Floating(x); return Recording.Unary(Prim(UnaryOp.Log, x), "LogBackward0", x, g => g / x, x); }
    public static Tensor Log1p(Tensor x) { x = Floating(x); return Recording.Unary(Prim(UnaryOp.Log1p, x), "Log1PBackward0", x, g => g / (x + 1.0), x); }
    public static Tensor Expm1(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Expm1, x); return Recording.Unary(y, "Expm1Backward0", x, g => g * (y + 1.0), y); }
    public static Tensor Sqrt(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Sqrt, x); return Recording.Unary(y, "SqrtBackward0", x, g => g / (y * 2.0), y); }
    public static Tensor Rsqrt(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Rsqrt, x); return Recording.Unary(y, "RsqrtBackward0", x, g => g * y.Pow(3.0) * -0.5, y); }
    public static Tensor Square(Tensor x) => Recording.Unary(Prim(UnaryOp.Square, x), "PowBackward0", x, g => g * x * 2.0, x);
    public static Tensor Reciprocal(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Reciprocal, x); return Recording.Unary(y, "ReciprocalBackward0", x, g => -g * y * y, y); }
    public static Tensor Sin(Tensor x) { x = Floating(x); return Recording.Unary(Prim(UnaryOp.Sin, x), "SinBackward0", x, g => g * x.Cos(), x); }
    public static Tensor Cos(Tensor x) { x = Floating(x); return Recording.Unary(Prim(UnaryOp.Cos, x), "CosBackward0", x, g => -g * x.Sin(), x); }
    public static Tensor Tanh(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Tanh, x); return Recording.Unary(y, "TanhBackward0", x, g => g * (1.0 - y * y), y); }
    public static Tensor Sigmoid(Tensor x) { x = Floating(x); var y = Prim(UnaryOp.Sigmoid, x); return Recording.Unary(y, "SigmoidBackward0", x, g => g * y * (1.0 - y), y); }
    public static Tensor Relu(Tensor x) { var y = Prim(UnaryOp.Relu, x); return Recording.Unary(y, "ReluBackward0", x, g => ReluGrad(g, y), y); }

    /// <summary>g where y &gt; 0, else 0: one pass when no graph of the backward is needed, differentiable otherwise.</summary>
    static Tensor ReluGrad(Tensor g, Tensor y)
    {
        if (GradMode.IsEnabled || !g.DType.IsFloatingPoint() || g.DType != y.DType || g.Shape != y.Shape) return g.MaskedFill(y <= 0.0, 0.0);
        var gc = g.Contiguous(); var yc = y.Contiguous();
        var result = Torch.Empty(g.Shape.ToArray(), g.DType);
        if (g.DType == DType.Float32) Mask(gc.Span<float>(), yc.Span<float>(), result.Span<float>());
        else Mask(gc.Span<double>(), yc.Span<double>(), result.Span<double>());
        GC.KeepAlive(gc); GC.KeepAlive(yc);
        return result;
    }

    static void Mask<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> result) where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int i = 0; i < result.Length; i++) result[i] = y[i] > T.Zero ? g[i] : T.Zero;
    }
    public static Tensor Erf(Tensor x) { x = Floating(x); return Recording.Unary(Prim(UnaryOp.Erf, x), "ErfBackward0", x, g => g * (-x * x).Exp() * (2.0 / Math.Sqrt(Math.PI)), x); }

    public static Tensor Floor(Tensor x) => Recording.Unary(Prim(UnaryOp.Floor, x), "FloorBackward0", x, g => Torch.ZerosLike(g));
    public static Tensor Ceil(Tensor x) => Recording.Unary(Prim(UnaryOp.Ceil, x), "CeilBackward0", x, g => Torch.ZerosLike(g));
    public static Tensor Round(Tensor x) => Recording.Unary(Prim(UnaryOp.Round, x), "RoundBackward0", x, g => Torch.ZerosLike(g));
    public static Tensor Trunc(Tensor x) => Recording.Unary(Prim(UnaryOp.Trunc, x), "TruncBackward0", x, g => Torch.ZerosLike(g));

    /// <summary>softplus(x) = log(1 + e^(βx))/β, linear above the threshold (PyTorch's default β = 1, threshold = 20).</summary>
    public static Tensor Softplus(Tensor x, double beta, double threshold)
    {
        x = Floating(x);
        Tensor y;
        using (Torch.NoGrad())
        {
            var bx = beta == 1 ? x : x * beta;
            // max(z, 0) + log1p(e^(−|z|)) is the overflow-free form of log(1 + e^z)
            var soft = bx.Relu() + (-bx.Abs()).Exp().Log1p();
            if (beta != 1) soft = soft / beta;
            y = Torch.Where(bx > threshold, x, soft);
        }
        // An explicit backward, σ(βx), as PyTorch's softplus_backward: differentiating the composed form above
        // gives 0 at x = 0 (the subgradients of relu and |·| there) instead of 1/2.
        return Recording.Unary(y, "SoftplusBackward0", x, g =>
        {
            var bx = beta == 1 ? x : x * beta;
            return Torch.Where(bx > threshold, g, g * bx.Sigmoid());
        }, x);
    }

    /// <summary>log σ(x) = −softplus(−x), stable for large |x|.</summary>
    public static Tensor LogSigmoid(Tensor x) => -Softplus(-x, 1, double.PositiveInfinity);
}
