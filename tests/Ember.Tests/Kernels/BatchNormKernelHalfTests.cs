using System.Runtime.InteropServices;
using Ember.Kernels.Norm;
using Ember.Kernels.Numerics;
using static Ember.Tests.Kernels.HalfTestData;

namespace Ember.Tests.Kernels;

/// <summary>
/// BatchNormKernel.ForwardHalf/BackwardHalf against the float32 kernel on the whole widened tensors: the statistics and
/// dweight/dbias bit for bit before any rounding, the outputs after rounding once; at the CNN's plane sizes (196, 784),
/// an odd 150 and 1, with and without an affine weight. (The widened tensors sit in 64-byte-aligned buffers, so the
/// comparison would also hold if a sum depended on the address.)
/// </summary>
public unsafe class BatchNormKernelHalfTests
{
    [Theory]
    [InlineData(8, 5, 196, true)]
    [InlineData(4, 3, 784, false)]
    [InlineData(7, 6, 150, true)]
    [InlineData(33, 2, 1, true)]
    public void Half_kernels_equal_float32_kernel_on_aligned_widened_tensors(int n, int c, int s, bool affine)
    {
        Check<BFloat16>(n, c, s, affine);
        Check<Half>(n, c, s, affine);
    }

    static void Check<THalf>(int n, int c, int s, bool affine) where THalf : unmanaged
    {
        int length = n * c * s;
        var x = Round<THalf>(Values(length, 1, 3f, 1.5f));
        var g = Round<THalf>(Values(length, 2, 1f, 0f));
        float[] w = affine ? Values(c, 3, 1f, 1f) : [], b = affine ? Values(c, 4, 1f, 0f) : [];
        float* xa = (float*)NativeMemory.AlignedAlloc((nuint)length * 4, 64), ga = (float*)NativeMemory.AlignedAlloc((nuint)length * 4, 64);
        try
        {
            var xs = new Span<float>(xa, length); var gs = new Span<float>(ga, length);
            HalfConversion.ToSingle<THalf>(x, xs);
            HalfConversion.ToSingle<THalf>(g, gs);
            string label = $"{typeof(THalf).Name} [{n}, {c}, {s}] affine {affine}";

            var y32 = new float[length]; var mean32 = new float[c]; var inv32 = new float[c];
            BatchNormKernel.Forward<float>(xs, n, c, s, w, b, 1e-5f, y32, mean32, inv32);
            var y = new THalf[length]; var mean = new float[c]; var inv = new float[c];
            BatchNormKernel.ForwardHalf<THalf>(x, n, c, s, w, b, 1e-5f, y, mean, inv);
            AssertSameBits(mean32, mean, label + " mean");
            AssertSameBits(inv32, inv, label + " invstd");
            AssertSameBits(Widened(Round<THalf>(y32)), Widened(y), label + " output");

            var dx32 = new float[length]; var dw32 = new float[c]; var db32 = new float[c];
            BatchNormKernel.Backward<float>(xs, gs, n, c, s, w, mean32, inv32, dx32, dw32, db32);
            var dx = new THalf[length]; var dw = new float[c]; var db = new float[c];
            BatchNormKernel.BackwardHalf<THalf>(x, g, n, c, s, w, mean, inv, dx, dw, db);
            AssertSameBits(dw32, dw, label + " dweight");
            AssertSameBits(db32, db, label + " dbias");
            AssertSameBits(Widened(Round<THalf>(dx32)), Widened(dx), label + " dx");
        }
        finally
        {
            NativeMemory.AlignedFree(xa); NativeMemory.AlignedFree(ga);
        }
    }

    static float[] Values(int n, int seed, float spread, float offset)
    {
        var rng = new Random(seed);
        var v = new float[n];
        // over a few binades, so that the sums round
        for (int i = 0; i < n; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-3, 4))) * spread + offset;
        return v;
    }
}
