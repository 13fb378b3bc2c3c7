using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// atan(x) (torch.atan). Not a kernel primitive: CIoU's aspect-ratio term is its only user so far, so a scalar loop
/// over a contiguous copy is enough; move it into <c>UnaryOp</c> if a benchmark ever asks.
/// </summary>
internal static class AtanOp
{
    public static Tensor Atan(Tensor x)
    {
        if (!x.DType.IsFloatingPoint()) x = x.To(DType.Float32);
        // half inputs (autocast's CIoU box loss): computed in float32 and rounded back, as PyTorch's CPU kernel does
        if (x.DType.IsReducedFloat()) return Atan(x.To(DType.Float32)).To(x.DType);
        var src = x.Detach().Contiguous();
        x.DType.RequireFloat32Or64("atan");
        var y = Torch.Empty(x.shape, x.DType);
        if (x.DType == DType.Float32)
        {
            var s = src.Span<float>(); var d = y.Span<float>();
            for (int i = 0; i < s.Length; i++) d[i] = MathF.Atan(s[i]);
        }
        else
        {
            var s = src.Span<double>(); var d = y.Span<double>();
            for (int i = 0; i < s.Length; i++) d[i] = Math.Atan(s[i]);
        }
        // d/dx atan x = 1 / (1 + x²), written with differentiable ops so double backward works
        return Recording.Unary(y, "AtanBackward0", x, g => g / (x * x + 1.0), x);
    }
}
