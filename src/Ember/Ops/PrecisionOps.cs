using Ember.Autograd;
using Ember.Training.Amp;

namespace Ember.Ops;

/// <summary>Rounding float32 values to bfloat16 or float16 precision (kept in float32 storage): the casts behind autocast.</summary>
internal static class PrecisionOps
{
    /// <summary>x rounded to the autocast precision, if autocast is on and x is float32; otherwise x.</summary>
    public static Tensor ForAutocast(Tensor x)
        => Autocast.Active is AutocastDType dtype && x.DType == DType.Float32 ? Round(x, dtype) : x;

    public static Tensor Round(Tensor x, AutocastDType dtype)
    {
        var source = x.Detach().Contiguous();
        var y = Torch.Empty(x.Shape.ToArray());
        var s = source.Span<float>();
        var d = y.Span<float>();
        if (dtype == AutocastDType.Float16) for (int i = 0; i < s.Length; i++) d[i] = (float)(Half)s[i];
        else for (int i = 0; i < s.Length; i++) d[i] = RoundToBFloat16(s[i]);
        return Recording.Unary(y, dtype == AutocastDType.Float16 ? "ToHalfBackward0" : "ToBFloat16Backward0", x, g => Round(g, dtype));
    }

    /// <summary>Round-to-nearest-even to 8 mantissa bits; NaN stays NaN.</summary>
    public static float RoundToBFloat16(float value)
    {
        if (float.IsNaN(value)) return value;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle((bits + rounding) & 0xFFFF0000);
    }
}
