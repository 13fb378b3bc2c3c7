using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// torch.remainder (the result takes the divisor's sign, Python's %) and torch.fmod (the dividend's sign, C's fmod),
/// broadcasting, for float32/float64/int64. Forward is exact (fmod, then a correction for remainder, as PyTorch's CPU
/// kernel); backward is PyTorch's: ∂/∂a = 1, ∂/∂b = −floor(a/b) for remainder and −trunc(a/b) for fmod.
/// </summary>
internal static class RemainderOps
{
    public static Tensor Apply(Tensor a, Tensor b, bool remainder)
    {
        string op = remainder ? "remainder" : "fmod";
        var dtype = BinaryOps.ResultType(a, b);
        if (dtype == DType.Bool) dtype = DType.Int64;
        a = a.To(dtype); b = b.To(dtype);
        var shape = Broadcasting.Shape(a.shape, b.shape, op);
        var av = a.Detach().Expand(shape).Contiguous();
        var bv = b.Detach().Expand(shape).Contiguous();
        var y = Torch.Empty(shape, dtype);
        switch (dtype)
        {
            case DType.Float32:
                {
                    var x = av.Span<float>(); var d = bv.Span<float>(); var o = y.Span<float>();
                    for (int i = 0; i < o.Length; i++)
                    {
                        float m = x[i] % d[i];
                        if (remainder && m != 0 && (m < 0) != (d[i] < 0)) m += d[i];
                        o[i] = m;
                    }
                    break;
                }
            case DType.Float64:
                {
                    var x = av.Span<double>(); var d = bv.Span<double>(); var o = y.Span<double>();
                    for (int i = 0; i < o.Length; i++)
                    {
                        double m = x[i] % d[i];
                        if (remainder && m != 0 && (m < 0) != (d[i] < 0)) m += d[i];
                        o[i] = m;
                    }
                    break;
                }
            case DType.Int64:
                {
                    var x = av.Span<long>(); var d = bv.Span<long>(); var o = y.Span<long>();
                    for (int i = 0; i < o.Length; i++)
                    {
                        if (d[i] == 0) throw new DivideByZeroException($"{op}: integer division by zero (at flat position {i} of the broadcast shape {Shape.Format(shape)})");
                        long m = x[i] % d[i];
                        if (remainder && m != 0 && (m < 0) != (d[i] < 0)) m += d[i];
                        o[i] = m;
                    }
                    break;
                }
            default: throw new NotSupportedException($"{op}: not implemented for {dtype.TorchName()}");
        }
        if (!dtype.IsFloatingPoint()) return y;
        int[] sa = a.shape, sb = b.shape;
        return Recording.Binary(y, remainder ? "RemainderBackward0" : "FmodBackward0", a, b,
            g => g.SumTo(sa),
            g => (-g * (remainder ? (a / b).Floor() : (a / b).Trunc())).SumTo(sb), a, b);
    }
}
