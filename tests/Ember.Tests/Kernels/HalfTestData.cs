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
}
