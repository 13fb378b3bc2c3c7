namespace Ember.Quantization;

/// <summary>
/// An affine quantization q = clamp(round(x / Scale) + ZeroPoint, qmin, qmax), x ≈ Scale · (q − ZeroPoint); the
/// rules that choose it are PyTorch's (fbgemm's <c>ChooseQuantizationParams</c> for activations, the symmetric
/// per-channel min/max observer for weights).
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    /// <summary>fbgemm's cut-off below which a scale is raised (float16's smallest normal number).</summary>
    const float SmallScaleThreshold = 6.1e-5f;

    /// <summary>
    /// The scale and zero point that map [min, max] (widened to hold 0, so that 0 is exact) onto [qmin, qmax]; with
    /// <paramref name="reduceRange"/> the integer range is halved (0..127 for uint8), as dynamic quantization does on
    /// x86 so that the u8×s8 pair sums of the int8 GEMM cannot saturate.
    /// </summary>
    public static QuantizationParameters ChooseAffine(float min, float max, int qmin = 0, int qmax = 255, bool reduceRange = false)
    {
        if (float.IsNaN(min) || float.IsNaN(max))
            throw new ArgumentException("quantization: the values hold NaN, which has no quantized representation");
        if (min > max) throw new ArgumentException($"quantization: min {min} is greater than max {max}");
        if (reduceRange) { qmin /= 2; qmax /= 2; }
        if (qmin >= qmax) throw new ArgumentException($"quantization: qmin {qmin} must be less than qmax {qmax}");
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        double scale = ((double)max - min) / (qmax - qmin);
        // a scale whose float reciprocal overflows would break the multiply-by-reciprocal in quantization
        if ((float)scale == 0f || float.IsInfinity(1f / (float)scale)) scale = 0.1;
        if (scale < SmallScaleThreshold)
        {
            float original = (float)scale;
            scale = SmallScaleThreshold;
            if (min == 0f) max = SmallScaleThreshold * (qmax - qmin);
            else if (max == 0f) min = -SmallScaleThreshold * (qmax - qmin);
            else { float amplifier = SmallScaleThreshold / original; min *= amplifier; max *= amplifier; }
        }
        // Of the two exact pairs (min, qmin) and (max, qmax), derive the zero point from the one whose terms are
        // smaller: its rounding error is smaller.
        double fromMin = qmin - min / scale, fromMax = qmax - max / scale;
        double errorMin = Math.Abs(qmin) - Math.Abs(min / scale), errorMax = Math.Abs(qmax) - Math.Abs(max / scale);
        double initial = errorMin < errorMax ? fromMin : fromMax;
        int zero = initial < qmin ? qmin : initial > qmax ? qmax : (int)Math.Round(initial, MidpointRounding.ToEven);
        return new((float)scale, zero);
    }

    /// <summary>
    /// Symmetric int8 quantization of values whose extremes are min and max (zero point 0): scale =
    /// max(|min|, |max|) / 127.5, at least float32's epsilon, as PyTorch's per_channel_symmetric qint8 observer.
    /// </summary>
    public static QuantizationParameters ChooseSymmetricInt8(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max))
            throw new ArgumentException("quantization: the weights hold NaN, which has no quantized representation");
        float amax = Math.Max(-Math.Min(min, 0f), Math.Max(max, 0f));
        float scale = Math.Max(amax / 127.5f, 1.1920929e-07f);
        return new(scale, 0);
    }
}
