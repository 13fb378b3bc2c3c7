using Ember.Autograd;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Arctangent, elementwise (torch.atan); d/dx atan x = 1/(1 + x²). Integer inputs give float32.
    /// A scalar loop rather than a kernel primitive: it is off the hot path (box-aspect terms of CIoU and the like).
    /// </summary>
    public Tensor Atan()
    {
        var x = DType.IsFloatingPoint() ? this : To(DType.Float32);
        var src = x.Detach().Contiguous();
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
        return Recording.Unary(y, "AtanBackward0", x, g => g / (x * x + 1.0), x);
    }
}
