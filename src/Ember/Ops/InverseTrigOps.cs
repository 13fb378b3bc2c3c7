using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// asin, acos and atan2 (torch.asin / acos / atan2). Like <see cref="AtanOp"/>, scalar loops over contiguous copies:
/// these are not on any hot path, so they stay out of the kernel primitives until a benchmark asks.
/// </summary>
internal static class InverseTrigOps
{
    static Tensor Floating(Tensor x) => x.DType.IsFloatingPoint() ? x : x.To(DType.Float32);

    static Tensor Map(Tensor x, Func<double, double> f64, Func<float, float> f32)
    {
        var src = x.Detach().Contiguous();
        x.DType.RequireFloat32Or64("asin/acos");
        var y = Torch.Empty(x.shape, x.DType);
        if (x.DType == DType.Float32)
        {
            var s = src.Span<float>(); var d = y.Span<float>();
            for (int i = 0; i < s.Length; i++) d[i] = f32(s[i]);
        }
        else
        {
            var s = src.Span<double>(); var d = y.Span<double>();
            for (int i = 0; i < s.Length; i++) d[i] = f64(s[i]);
        }
        return y;
    }

    /// <summary>asin x; d/dx = 1/√(1 − x²) (NaN outside [−1, 1], ±∞ at the ends, as PyTorch).</summary>
    public static Tensor Asin(Tensor x)
    {
        x = Floating(x);
        var y = Map(x, Math.Asin, MathF.Asin);
        return Recording.Unary(y, "AsinBackward0", x, g => g * (1.0 - x * x).Rsqrt(), x);
    }

    /// <summary>acos x; d/dx = −1/√(1 − x²).</summary>
    public static Tensor Acos(Tensor x)
    {
        x = Floating(x);
        var y = Map(x, Math.Acos, MathF.Acos);
        return Recording.Unary(y, "AcosBackward0", x, g => -g * (1.0 - x * x).Rsqrt(), x);
    }

    /// <summary>
    /// atan2(y, x), the angle of (x, y) in (−π, π], broadcasting, with the signed-zero rules of C's atan2. Gradients
    /// (PyTorch's atan2_backward): ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²).
    /// </summary>
    public static Tensor Atan2(Tensor y, Tensor x)
    {
        var dtype = BinaryOps.ResultType(y, x);
        if (!dtype.IsFloatingPoint()) dtype = DType.Float32;
        y = y.To(dtype); x = x.To(dtype);
        var shape = Broadcasting.Shape(y.shape, x.shape, "atan2");
        var ys = y.Detach().Expand(shape).Contiguous();
        var xs = x.Detach().Expand(shape).Contiguous();
        var result = Torch.Empty(shape, dtype);
        if (dtype == DType.Float32)
        {
            var a = ys.Span<float>(); var b = xs.Span<float>(); var o = result.Span<float>();
            for (int i = 0; i < o.Length; i++) o[i] = MathF.Atan2(a[i], b[i]);
        }
        else
        {
            var a = ys.Span<double>(); var b = xs.Span<double>(); var o = result.Span<double>();
            for (int i = 0; i < o.Length; i++) o[i] = Math.Atan2(a[i], b[i]);
        }
        int[] sy = y.shape, sx = x.shape;
        return Recording.Binary(result, "Atan2Backward0", y, x,
            g => (g * x / (x * x + y * y)).SumTo(sy),
            g => (-g * y / (x * x + y * y)).SumTo(sx), y, x);
    }
}
