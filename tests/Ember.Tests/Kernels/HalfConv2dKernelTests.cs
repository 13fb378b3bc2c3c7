using Ember.Kernels.Conv;
using Ember.Kernels.Numerics;
using static Ember.Tests.Kernels.HalfTestData;

namespace Ember.Tests.Kernels;

/// <summary>
/// HalfConv2dKernel's float32 weight gradient (before the op rounds it) against Conv2dKernel.BackwardWeight on the
/// whole widened tensors: bit for bit, so the batch chunks are summed in the float32 kernel's order. Long sums (large
/// planes, many images per chunk) make a different order visible; the op-level tests compare only rounded results.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class HalfConv2dKernelTests
{
    [Theory]
    [InlineData(45, 4, 12, 13, 5, 3, 1, 1)]  // shifted GEMM, 8 chunks of 6 images
    [InlineData(23, 6, 9, 8, 8, 3, 2, 1)]    // shifted GEMM, groups
    [InlineData(21, 1, 14, 11, 3, 3, 1, 1)]  // one input channel (shifted GEMM's weight gradient, groups 1)
    [InlineData(17, 4, 11, 10, 6, 3, 1, 2)]  // stride 2: the whole-tensor fallback
    public void Weight_gradient_equals_float32_kernel(int n, int cin, int h, int w, int cout, int k, int groups, int stride)
    {
        var g = new Conv2dGeometry(n, cin, h, w, cout, k, k, stride, stride, 1, 1, 1, 1, groups);
        Check<BFloat16>(g);
        Check<Half>(g);
    }

    [Fact]
    public void Forward_and_input_gradient_equal_float32_kernel_with_chunks()
    {
        var g = new Conv2dGeometry(13, 6, 10, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2);
        foreach (int chunk in new[] { 0, 1, 4 })
        {
            HalfConv2dKernel.ForcedImagesPerChunk = chunk;
            try
            {
                var x = Round<BFloat16>(Values(g.InputLength, 1)); var dy = Round<BFloat16>(Values(g.OutputLength, 2));
                var weight = Values(g.WeightLength, 3); var bias = Values(g.OutChannels, 4);
                var y32 = new float[g.OutputLength];
                Conv2dKernel.Forward<float>(g, Widened(x), weight, bias, y32);
                var y = new BFloat16[g.OutputLength];
                HalfConv2dKernel.Forward<BFloat16>(g, x, weight, bias, y);
                AssertSameBits(Widened(Round<BFloat16>(y32)), Widened(y), $"forward chunk {chunk}");
                var dx32 = new float[g.InputLength];
                Conv2dKernel.BackwardInput<float>(g, Widened(dy), weight, dx32);
                var dx = new BFloat16[g.InputLength];
                HalfConv2dKernel.BackwardInput<BFloat16>(g, dy, weight, default, dx);
                AssertSameBits(Widened(Round<BFloat16>(dx32)), Widened(dx), $"input gradient chunk {chunk}");
            }
            finally
            {
                HalfConv2dKernel.ForcedImagesPerChunk = 0;
            }
        }
    }

    static void Check<THalf>(in Conv2dGeometry g) where THalf : unmanaged
    {
        var x = Round<THalf>(Values(g.InputLength, 5)); var dy = Round<THalf>(Values(g.OutputLength, 6));
        var expected = new float[g.WeightLength];
        Conv2dKernel.BackwardWeight<float>(g, Widened(x), Widened(dy), expected);
        var actual = new float[g.WeightLength];
        HalfConv2dKernel.BackwardWeight<THalf>(g, x, dy, actual);
        AssertSameBits(expected, actual, $"{typeof(THalf).Name} weight gradient {g}");
    }

    // Values over a few binades, so that products and sums round.
    static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-4, 5)));
        return v;
    }
}
