using Ember.Kernels.Numerics;

namespace Ember.Tests.Tensors;

/// <summary>
/// Whole-tensor float32 ↔ float16/bfloat16 casts (vectorized, split between threads when large) against the scalar
/// casts element by element, on a tensor large enough to be split, with NaN, ±inf, ±0, subnormals and ties among the values.
/// </summary>
public class HalfConversionTests
{
    [Fact]
    public void Large_casts_match_scalar_casts_bit_for_bit()
    {
        const int n = 300_001;
        var rng = new Random(3);
        var v = new float[n];
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -3e-39f, 1.00390625f, 65520f, 1e-8f];
        for (int i = 0; i < n; i++) v[i] = i % 13 == 0 ? special[i / 13 % special.Length] : (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 30)));
        var x = Torch.FromArray(v, [n]);

        var b = x.To(DType.BFloat16).ToArray<BFloat16>();
        var h = x.To(DType.Float16).ToArray<Half>();
        for (int i = 0; i < n; i++)
        {
            Assert.True(b[i].Bits == ((BFloat16)v[i]).Bits, $"bfloat16 cast of {v[i]:R} at {i}: 0x{b[i].Bits:X4}, scalar 0x{((BFloat16)v[i]).Bits:X4}");
            Assert.True(BitConverter.HalfToUInt16Bits(h[i]) == BitConverter.HalfToUInt16Bits((Half)v[i]), $"float16 cast of {v[i]:R} at {i}");
        }
        var bw = Torch.FromArray(b, [n]).To(DType.Float32).ToArray<float>();
        var hw = Torch.FromArray(h, [n]).To(DType.Float32).ToArray<float>();
        for (int i = 0; i < n; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits(bw[i]) == BitConverter.SingleToUInt32Bits((float)b[i]), $"bfloat16 → float32 at {i}");
            Assert.True(BitConverter.SingleToUInt32Bits(hw[i]) == BitConverter.SingleToUInt32Bits((float)h[i]), $"float16 → float32 at {i}");
        }
    }
}
