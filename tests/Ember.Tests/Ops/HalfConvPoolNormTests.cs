using Ember.Kernels.Conv;
using Ember.Ops;
using Ember.Tests.Kernels;

namespace Ember.Tests.Ops;

/// <summary>
/// Convolution, transposed convolution, batch norm and pooling on float16/bfloat16 tensors (HalfConv2dKernel,
/// HalfPool2dKernel, BatchNormKernel.ForwardHalf: float32 kernels on a few widened images or one widened channel at a
/// time) against the definition they replace: widen the whole tensors, run the float32 op, round once. Bit for bit,
/// forward and backward, on odd shapes with groups, stride, dilation and padding, with several image chunks forced.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class HalfConvPoolNormTests
{
    public static TheoryData<string> Dtypes => new() { nameof(DType.Float16), nameof(DType.BFloat16) };

    // (N, C_in, H, W, C_out, kH, kW, stride, padding, dilation, groups): the shifted-GEMM path (stride 1), its phase
    // split (stride 2), the im2col path (stride 3), depthwise, pointwise, C_in = 1, groups, dilation, and a batch whose
    // weight-gradient chunks hold several images.
    static readonly (int N, int Ci, int H, int W, int Co, int Kh, int Kw, (int, int) S, (int, int) P, (int, int) D, int G)[] ConvCases =
    [
        (5, 3, 9, 11, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
        (19, 4, 7, 6, 6, 3, 2, (1, 1), (1, 0), (1, 1), 2),
        (3, 4, 11, 9, 5, 3, 3, (2, 2), (1, 1), (1, 1), 1),
        (4, 2, 10, 13, 3, 2, 3, (3, 2), (0, 1), (2, 1), 1),
        (6, 6, 8, 7, 6, 3, 3, (1, 1), (1, 1), (1, 1), 6),
        (7, 5, 6, 5, 3, 1, 1, (1, 1), (0, 0), (1, 1), 1),
        (9, 1, 12, 10, 4, 3, 3, (1, 1), (2, 1), (2, 1), 1),
        (2, 6, 9, 9, 4, 3, 3, (1, 1), (2, 2), (2, 2), 2),
        (45, 3, 5, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1), // 8 weight-gradient chunks of 6 images, summed in order
    ];

    [Theory, MemberData(nameof(Dtypes))]
    public void Conv2d_forward_and_backward_equal_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int chunk in new[] { 0, 2 })
        {
            HalfConv2dKernel.ForcedImagesPerChunk = chunk;
            try
            {
                int seed = 1;
                foreach (var c in ConvCases)
                {
                    string label = $"{name} conv {c} chunk {chunk}";
                    var x = Inputs([c.N, c.Ci, c.H, c.W], dtype, seed++).RequiresGradInPlace();
                    var w = Inputs([c.Co, c.Ci / c.G, c.Kh, c.Kw], dtype, seed++).RequiresGradInPlace();
                    var b = Inputs([c.Co], dtype, seed++).RequiresGradInPlace();
                    AssertMatchesWidened((xi, wi, bi) => ConvOps.Conv2d(xi, wi, bi, c.S, c.P, c.D, c.G), x, w, b, seed++, label);
                }
            }
            finally
            {
                HalfConv2dKernel.ForcedImagesPerChunk = 0;
            }
        }
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void ConvTranspose2d_forward_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        HalfConv2dKernel.ForcedImagesPerChunk = 3;
        try
        {
            // input [7, 4, 5, 6], weight [C_in 4, C_out/groups 3, 3, 3], groups 2 → 6 output channels; stride 2 and 1
            foreach (var (stride, padding, outPad) in new[] { ((2, 2), (1, 0), (1, 0)), ((1, 1), (1, 1), (0, 0)) })
            {
                var x = Inputs([7, 4, 5, 6], dtype, 11);
                var w = Inputs([4, 3, 3, 3], dtype, 12);
                var b = Inputs([6], dtype, 13);
                var y = ConvOps.ConvTranspose2d(x, w, b, stride, padding, outPad, (1, 1), 2);
                var y32 = ConvOps.ConvTranspose2d(Widen(x), Widen(w), Widen(b), stride, padding, outPad, (1, 1), 2);
                AssertSameBits(y32.To(dtype), y, $"{name} conv_transpose2d stride {stride}");
            }
        }
        finally
        {
            HalfConv2dKernel.ForcedImagesPerChunk = 0;
        }
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void ConvTranspose2d_backward_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int chunk in new[] { 0, 2 })
        {
            HalfConv2dKernel.ForcedImagesPerChunk = chunk;
            try
            {
                // stride 2 (the weight gradient's im2col path) and stride 1 (its shifted-GEMM path, chunked), groups 2;
                // and a batch of 45 whose weight gradient sums 8 chunks of images
                foreach (var (n, stride, padding, outPad) in new[] { (7, (2, 2), (1, 0), (1, 0)), (7, (1, 1), (1, 1), (0, 0)), (45, (1, 1), (0, 1), (0, 0)) })
                {
                    string label = $"{name} conv_transpose2d n={n} stride {stride} chunk {chunk}";
                    var x = Inputs([n, 4, 5, 6], dtype, 21).RequiresGradInPlace();
                    var w = Inputs([4, 3, 3, 3], dtype, 22).RequiresGradInPlace();
                    var b = Inputs([6], dtype, 23).RequiresGradInPlace();
                    AssertMatchesWidened((xi, wi, bi) => ConvOps.ConvTranspose2d(xi, wi, bi, stride, padding, outPad, (1, 1), 2), x, w, b, 24, label);
                }
            }
            finally
            {
                HalfConv2dKernel.ForcedImagesPerChunk = 0;
            }
        }
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void Pooling_forward_and_backward_equal_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int chunk in new[] { 0, 2 })
        {
            HalfConv2dKernel.ForcedImagesPerChunk = chunk;
            try
            {
                var x = Inputs([5, 3, 9, 11], dtype, 21, specials: true).RequiresGradInPlace();
                var x32 = Widen(x);
                // max: kernel 3, stride 2, padding 1, dilation 1 and 2, ceil mode; avg: with and without padded zeros counted
                foreach (var (dilation, ceil) in new[] { ((1, 1), false), ((2, 1), true) })
                {
                    var (y, idx) = PoolOps.MaxPool2d(x, (3, 3), (2, 2), (1, 1), dilation, ceil);
                    var (y32, idx32) = PoolOps.MaxPool2d(x32, (3, 3), (2, 2), (1, 1), dilation, ceil);
                    string label = $"{name} max_pool2d dilation {dilation} chunk {chunk}";
                    AssertSameBits(y32.To(dtype), y, label);
                    Assert.Equal(idx32.ToArray<long>(), idx.ToArray<long>());
                    var g = Inputs(y.Shape.ToArray(), dtype, 22);
                    AssertSameBits(Torch.Grad([y32], [x32], [g.To(DType.Float32)])[0]!.To(dtype), Torch.Grad([y], [x], [g])[0]!, label + " backward");
                }
                foreach (bool countPad in new[] { true, false })
                {
                    var y = PoolOps.AvgPool2d(x, (3, 2), (2, 2), (1, 1), true, countPad, null);
                    var y32 = PoolOps.AvgPool2d(x32, (3, 2), (2, 2), (1, 1), true, countPad, null);
                    string label = $"{name} avg_pool2d count_include_pad {countPad} chunk {chunk}";
                    AssertSameBits(y32.To(dtype), y, label);
                    var g = Inputs(y.Shape.ToArray(), dtype, 23);
                    AssertSameBits(Torch.Grad([y32], [x32], [g.To(DType.Float32)])[0]!.To(dtype), Torch.Grad([y], [x], [g])[0]!, label + " backward");
                }
            }
            finally
            {
                HalfConv2dKernel.ForcedImagesPerChunk = 0;
            }
        }
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void BatchNorm_forward_and_backward_equal_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int[] shape in new[] { new[] { 6, 5, 7, 9 }, new[] { 3, 4, 11 }, new[] { 17, 3, 1, 1 }, new[] { 5, 3, 14, 14 } })
        {
            var x = Inputs(shape, dtype, 31).RequiresGradInPlace();
            var w = Inputs([shape[1]], DType.Float32, 32).RequiresGradInPlace();
            var b = Inputs([shape[1]], DType.Float32, 33).RequiresGradInPlace();
            var (y, mean, variance) = BatchNormOps.Training(x, w, b, 1e-5);
            var x32 = Widen(x);
            var (y32, mean32, variance32) = BatchNormOps.Training(x32, w, b, 1e-5);
            string label = $"{name} batch_norm {string.Join('×', shape)}";
            Assert.Equal(dtype, y.DType);
            AssertSameBits(y32.To(dtype), y, label);
            AssertSameBits(mean32, mean, label + " mean");
            AssertSameBits(variance32, variance, label + " variance");
            var g = Inputs(shape, dtype, 34);
            var grads = Torch.Grad([y], [x, w, b], [g]);
            var grads32 = Torch.Grad([y32], [x32, w, b], [g.To(DType.Float32)]);
            AssertSameBits(grads32[0]!.To(dtype), grads[0]!, label + " input gradient");
            AssertSameBits(grads32[1]!, grads[1]!, label + " weight gradient");
            AssertSameBits(grads32[2]!, grads[2]!, label + " bias gradient");
        }
    }

    static Tensor Widen(Tensor t) => t.Detach().To(DType.Float32).RequiresGradInPlace();

    /// <summary>
    /// <paramref name="op"/> on the half x, w, b (which require grad) and on their float32 widenings: the output and the
    /// three gradients, for one half upstream gradient, must be the float32 results rounded once, bit for bit.
    /// </summary>
    static void AssertMatchesWidened(Func<Tensor, Tensor, Tensor, Tensor> op, Tensor x, Tensor w, Tensor b, int gradSeed, string label)
    {
        var dtype = x.DType;
        var y = op(x, w, b);
        var g = Inputs(y.Shape.ToArray(), dtype, gradSeed);
        var grads = Torch.Grad([y], [x, w, b], [g]);
        var (x32, w32, b32) = (Widen(x), Widen(w), Widen(b));
        var y32 = op(x32, w32, b32);
        var grads32 = Torch.Grad([y32], [x32, w32, b32], [g.To(DType.Float32)]);
        AssertSameBits(y32.To(dtype), y, label + " output");
        AssertSameBits(grads32[0]!.To(dtype), grads[0]!, label + " input gradient");
        AssertSameBits(grads32[1]!.To(dtype), grads[1]!, label + " weight gradient");
        AssertSameBits(grads32[2]!.To(dtype), grads[2]!, label + " bias gradient");
    }

    // Normal values; with specials, every few an edge (NaN, ±inf, ±0) for the max-pooling ties and NaN rules.
    static Tensor Inputs(int[] shape, DType dtype, int seed, bool specials = false)
    {
        var rng = new Random(seed);
        int n = shape.Aggregate(1, (a, d) => a * d);
        var v = new float[n];
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f];
        for (int i = 0; i < n; i++) v[i] = specials && i % 41 == 7 ? special[i / 41 % special.Length] : (float)(rng.NextDouble() * 4 - 2);
        return Torch.FromArray(v, shape).To(dtype);
    }

    static void AssertSameBits(Tensor expected, Tensor actual, string label) => HalfTestData.AssertSameBits(expected, actual, label);
}
