using Ember.Kernels.Numerics;

namespace Ember.Tests.Kernels;

/// <summary>Conversions and a bit-for-bit comparison shared by the half-precision kernel tests.</summary>
internal static class HalfTestData
{
    /// <summary>The values rounded to THalf.</summary>
    public static THalf[] Round<THalf>(float[] v) where THalf : unmanaged
    {
        var h = new THalf[v.Length];
        HalfConversion.FromSingle<THalf>(v, h);
        return h;
    }

    /// <summary>The half values widened to float32.</summary>
    public static float[] Widened<THalf>(THalf[] h) where THalf : unmanaged
    {
        var f = new float[h.Length];
        HalfConversion.ToSingle<THalf>(h, f);
        return f;
    }

    /// <summary>Fails at the first element whose bits differ from the float32 kernel's.</summary>
    public static void AssertSameBits(float[] expected, float[] actual, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{label}: element {i} is {actual[i]:R}, the float32 kernel gives {expected[i]:R}");
    }

    /// <summary>
    /// Normal values in [-4, 4) with an edge every 97th element (NaN, ±inf, ±0, a tiny and a huge value), as a
    /// <paramref name="dtype"/> tensor of <paramref name="shape"/>.
    /// </summary>
    public static Tensor EdgeInputs(int[] shape, DType dtype, int seed)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        var rng = new Random(seed);
        var v = new float[n];
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-6f, 6e4f];
        for (int i = 0; i < n; i++) v[i] = i % 97 == 5 ? special[i / 97 % special.Length] : (float)(rng.NextDouble() * 8 - 4);
        return Torch.FromArray(v, shape).To(dtype);
    }

    /// <summary>Fails unless the two tensors have one dtype and shape and the same bits in every element.</summary>
    public static void AssertSameBits(Tensor expected, Tensor actual, string label)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.To(DType.Float32).ToArray<float>();
        var a = actual.To(DType.Float32).ToArray<float>();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            if (BitConverter.SingleToUInt32Bits(e[i]) != BitConverter.SingleToUInt32Bits(a[i]))
                Assert.Fail($"{label}: element {i} is {a[i]:R} (0x{BitConverter.SingleToUInt32Bits(a[i]):X8}), widen-compute-round gives {e[i]:R} (0x{BitConverter.SingleToUInt32Bits(e[i]):X8})");
    }
}
