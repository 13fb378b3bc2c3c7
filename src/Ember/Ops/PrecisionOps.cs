using Ember.Training.Amp;

namespace Ember.Ops;

/// <summary>
/// The casts behind autocast (PyTorch's cached_cast): ops on the lower-precision list cast their floating inputs to the
/// autocast dtype, ops on the float32 list cast half inputs up. Both are ordinary differentiable <c>To</c> casts, so the
/// gradient that reaches a float32 master weight is float32 (the cast's backward casts it back).
/// </summary>
internal static class PrecisionOps
{
    /// <summary>The tensor dtype autocast runs the lower-precision ops in, or null outside autocast.</summary>
    public static DType? AutocastDType => Autocast.Active switch
    {
        Training.Amp.AutocastDType.BFloat16 => DType.BFloat16,
        Training.Amp.AutocastDType.Float16 => DType.Float16,
        _ => null,
    };

    /// <summary>
    /// Lower-precision list (matmul, linear, conv, bmm): x cast to the autocast dtype when autocast is on and x is a
    /// float32 or other-half tensor; float64 and integer tensors are left alone, as PyTorch's is_eligible.
    /// </summary>
    public static Tensor ForAutocast(Tensor x)
        => AutocastDType is DType target && x.DType != target && (x.DType == DType.Float32 || x.DType.IsReducedFloat()) ? CastKeepingLayout(x, target) : x;

    /// <summary>
    /// A transposed view (linear's Wᵀ) is cast as the contiguous tensor it views and transposed back: one vectorized
    /// whole-tensor conversion instead of a strided element loop, and the half copy keeps the weight's layout, so the
    /// GEMM reads it transposed and the weight's gradient arrives in its own layout, as in float32.
    /// </summary>
    static Tensor CastKeepingLayout(Tensor x, DType target)
        => x.Rank >= 2 && !x.IsContiguous && x.MT.IsContiguous ? x.MT.To(target).MT : x.To(target);

    /// <summary>Float32 list (softmax, log_softmax, norms, losses): a half x cast up to float32 when autocast is on.</summary>
    public static Tensor Float32ForAutocast(Tensor x)
        => Autocast.Active is not null && x.DType.IsReducedFloat() ? x.To(DType.Float32) : x;

    /// <summary>
    /// A detached, contiguous copy a float32/float64 kernel can read: half tensors are widened to float32 (a pooled
    /// scratch buffer that lives for the op), other dtypes pass through.
    /// </summary>
    public static Tensor Widened(Tensor x) => x.DType.IsReducedFloat() ? x.Detach().To(DType.Float32) : x.Detach().Contiguous();

    /// <summary>A kernel's float32 result rounded once to the half dtype the op was called with (no-op otherwise).</summary>
    public static Tensor Narrowed(Tensor y, DType dtype) => y.DType == dtype ? y : y.Detach().To(dtype);

    /// <summary>Round-to-nearest-even to 8 mantissa bits; NaN stays NaN.</summary>
    public static float RoundToBFloat16(float value)
    {
        if (float.IsNaN(value)) return value;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle((bits + rounding) & 0xFFFF0000);
    }
}
