using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Operators;

namespace Ember.Ops;

/// <summary>Elementwise unary ops: forward is one primitive, backward sits on the next line.</summary>
internal static class UnaryOps
{
    static Tensor Prim(UnaryOp op, Tensor x) => Backend.Of(x).Unary(op, x);
    static Tensor Floating(Tensor x) => x.DType.IsFloatingPoint() ? x : x.To(DType.Float32);

    /// <summary>
    /// y = op(x) with its backward grad(g, x, y). The backward is a static lambda and the closure binding x and y is
    /// made only when recording, so an inference call allocates nothing for autograd.
    /// </summary>
    static Tensor Op(UnaryOp op, string name, Tensor x, Func<Tensor, Tensor, Tensor, Tensor> grad, bool saveX = false, bool saveY = false)
    {
        var y = Prim(op, x);
        return Recording.IsOn(x) ? Record(y, name, x, grad, saveX, saveY) : y;
    }

    static Tensor Record(Tensor y, string name, Tensor x, Func<Tensor, Tensor, Tensor, Tensor> grad, bool saveX, bool saveY)
        => Recording.Unary(y, name, x, g => grad(g, x, y), saveX && saveY ? [x, y] : saveX ? [x] : saveY ? [y] : []);

    /// <summary>g where y &gt; 0, else 0: one pass when no graph of the backward is needed, differentiable otherwise.</summary>
    // Under create_graph the gradient must itself be differentiable (masked_fill); otherwise one fused backend pass.
    static Tensor ReluGrad(Tensor g, Tensor y)
        => GradMode.IsEnabled || !g.DType.IsFloatingPoint() || g.DType != y.DType || g.Shape != y.Shape
            ? g.MaskedFill(y <= 0.0, 0.0)
            : Backend.Of(g).ReluBackward(g, y);

    /// <summary>
    /// GELU (exact erf form) as one fused pass, with a fused backward; under create_graph the backward is written
    /// from differentiable ops, g·(Φ(x) + x·φ(x)), so double backward works.
    /// </summary>
    public static Tensor Gelu(Tensor x) => Fused(Activation.Gelu, "GeluBackward0", x,
        static (g, x) => g * ((x * Math.Sqrt(0.5)).Erf() * 0.5 + 0.5 + x * (x * x * -0.5).Exp() * (1 / Math.Sqrt(2 * Math.PI))));

    /// <summary>GELU, tanh approximation, fused like <see cref="Gelu"/>; the differentiable backward is PyTorch's formula.</summary>
    public static Tensor GeluTanh(Tensor x) => Fused(Activation.GeluTanh, "GeluBackward0", x, static (g, x) =>
    {
        const double K = 0.79788456080286535588, C = 0.044715;   // √(2/π) and the cubic coefficient
        var t = ((x + x * x * x * C) * K).Tanh();
        return g * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * ((x * x * (3 * C) + 1.0) * K));
    });

    /// <summary>SiLU, x·σ(x), fused like <see cref="Gelu"/>: g·σ(x)·(1 + x·(1 − σ(x))) differentiable under create_graph.</summary>
    public static Tensor Silu(Tensor x) => Fused(Activation.Silu, "SiluBackward0", x, static (g, x) =>
    {
        var s = x.Sigmoid();
        return g * s * (x * (1.0 - s) + 1.0);
    });

    // One kernel pass forward, one backward; the composed gradient only when a graph of the backward is requested.
    static Tensor Fused(Activation activation, string name, Tensor x, Func<Tensor, Tensor, Tensor> differentiableGrad)
    {
        x = Floating(x);
        var y = Backend.Of(x).Activation(activation, x);
        if (!Recording.IsOn(x)) return y;
        return Recording.Unary(y, name, x, g => GradMode.IsEnabled || g.DType != x.DType
            ? differentiableGrad(g, x)
            : Backend.Of(g).ActivationBackward(activation, g, x), x);
    }

    public static Tensor Neg(Tensor x) => Op(UnaryOp.Neg, "NegBackward0", x, static (g, x, y) => g.Neg());
    public static Tensor Abs(Tensor x) => Op(UnaryOp.Abs, "AbsBackward0", x, static (g, x, y) => g * x.Sign(), saveX: true);
    public static Tensor Sign(Tensor x) => Op(UnaryOp.Sign, "SignBackward0", x, static (g, x, y) => Torch.ZerosLike(g));

    public static Tensor Exp(Tensor x) => Op(UnaryOp.Exp, "ExpBackward0", Floating(x), static (g, x, y) => g * y, saveY: true);
    public static Tensor Log(Tensor x) => Op(UnaryOp.Log, "LogBackward0", Floating(x), static (g, x, y) => g / x, saveX: true);
    public static Tensor Log1p(Tensor x) => Op(UnaryOp.Log1p, "Log1PBackward0", Floating(x), static (g, x, y) => g / (x + 1.0), saveX: true);
    public static Tensor Expm1(Tensor x) => Op(UnaryOp.Expm1, "Expm1Backward0", Floating(x), static (g, x, y) => g * (y + 1.0), saveY: true);
    public static Tensor Sqrt(Tensor x) => Op(UnaryOp.Sqrt, "SqrtBackward0", Floating(x), static (g, x, y) => g / (y * 2.0), saveY: true);
    public static Tensor Rsqrt(Tensor x) => Op(UnaryOp.Rsqrt, "RsqrtBackward0", Floating(x), static (g, x, y) => g * y.Pow(3.0) * -0.5, saveY: true);
    public static Tensor Square(Tensor x) => Op(UnaryOp.Square, "PowBackward0", x, static (g, x, y) => g * x * 2.0, saveX: true);
    public static Tensor Reciprocal(Tensor x) => Op(UnaryOp.Reciprocal, "ReciprocalBackward0", Floating(x), static (g, x, y) => -g * y * y, saveY: true);
    public static Tensor Sin(Tensor x) => Op(UnaryOp.Sin, "SinBackward0", Floating(x), static (g, x, y) => g * x.Cos(), saveX: true);
    public static Tensor Cos(Tensor x) => Op(UnaryOp.Cos, "CosBackward0", Floating(x), static (g, x, y) => -g * x.Sin(), saveX: true);
    public static Tensor Tanh(Tensor x) => Op(UnaryOp.Tanh, "TanhBackward0", Floating(x), static (g, x, y) => g * (1.0 - y * y), saveY: true);
    public static Tensor Sigmoid(Tensor x) => Op(UnaryOp.Sigmoid, "SigmoidBackward0", Floating(x), static (g, x, y) => g * y * (1.0 - y), saveY: true);
    public static Tensor Relu(Tensor x) => Op(UnaryOp.Relu, "ReluBackward0", x, static (g, x, y) => ReluGrad(g, y), saveY: true);
    public static Tensor Erf(Tensor x) => Op(UnaryOp.Erf, "ErfBackward0", Floating(x), static (g, x, y) => g * (-x * x).Exp() * (2.0 / Math.Sqrt(Math.PI)), saveX: true);

    public static Tensor Floor(Tensor x) => Op(UnaryOp.Floor, "FloorBackward0", x, static (g, x, y) => Torch.ZerosLike(g));
    public static Tensor Ceil(Tensor x) => Op(UnaryOp.Ceil, "CeilBackward0", x, static (g, x, y) => Torch.ZerosLike(g));
    public static Tensor Round(Tensor x) => Op(UnaryOp.Round, "RoundBackward0", x, static (g, x, y) => Torch.ZerosLike(g));
    public static Tensor Trunc(Tensor x) => Op(UnaryOp.Trunc, "TruncBackward0", x, static (g, x, y) => Torch.ZerosLike(g));

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
    public static Tensor LogSigmoid(Tensor x)
    {
        x.DType.RequireNonBool("log_sigmoid");
        return Recording.Named(-Softplus(-x, 1, double.PositiveInfinity), "LogSigmoidBackward0", x);
    }
}
