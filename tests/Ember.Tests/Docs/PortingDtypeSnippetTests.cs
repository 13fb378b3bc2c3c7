using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Tests.Docs;

/// <summary>docs/porting.md's conv3d row and "Dtypes" section, checked line by line (the PyTorch line is the comment above).</summary>
public class PortingDtypeSnippetTests
{
    [Fact]
    public void Conv3d_lines_port_as_the_table_says()
    {
        var x = Torch.Randn([1, 4, 5, 6, 6], DType.Float64, new Generator(1));
        var w = Torch.Randn([8, 4, 3, 3, 3], DType.Float64, new Generator(2));
        // F.conv3d(x, w, padding='same') keeps (D, H, W) at stride 1
        Assert.Equal(new Shape(1, 8, 5, 6, 6), F.Conv3d(x, w, padding: ConvPadding3d.Same).Shape);
        // F.conv3d(x, w, stride=(2, 1, 1), padding=1): D = (5 + 2 − 3) / 2 + 1 = 3
        Assert.Equal(new Shape(1, 8, 3, 6, 6), F.Conv3d(x, w, null, (2, 1, 1), 1).Shape);
        // nn.Conv3d(4, 8, 3, padding=1, padding_mode='reflect') is the convolution of the reflect-padded input
        var conv = new Conv3d(4, 8, 3, padding: 1, paddingMode: PaddingMode.Reflect);
        var x32 = x.To(DType.Float32);
        TestUtil.Close(F.Conv3d(Torch.Pad(x32, [1, 1, 1, 1, 1, 1], PaddingMode.Reflect), conv.Weight, conv.Bias), conv.Forward(x32), 1e-6, 1e-6);
    }

    [Fact]
    public void Promotion_and_errors_are_as_the_dtypes_section_says()
    {
        var h = Torch.FromArray([1.0, 3.0], [2]).To(DType.BFloat16);
        // (h * 0.1).dtype == torch.bfloat16, and 3 · 0.1 is rounded once (bfloat16(0.3) = 0.30078125), not as 3 · bfloat16(0.1) = 0.2998046875
        var y = h * 0.1;
        Assert.Equal(DType.BFloat16, y.DType);
        Assert.Equal(0.30078125, y.ToDoubleArray()[1]);
        // torch.promote_types(torch.float16, torch.bfloat16) == torch.float32
        Assert.Equal(DType.Float32, DTypeExtensions.Promote(DType.Float16, DType.BFloat16));
        Assert.Equal(DType.Float32, (h + Torch.FromArray([1.0, 1.0], [2]).To(DType.Float16)).DType);
        // torch.tensor([100], dtype=torch.int8) + 100 wraps to −56; .sum() of int8 is int64
        var i8 = Torch.FromArray(new sbyte[] { 100, 100 }, [2]);
        Assert.Equal(new sbyte[] { -56, -56 }, (i8 + i8).ToArray<sbyte>());
        Assert.Equal(DType.Int64, i8.Sum().DType);
        Assert.Equal(200L, i8.Sum().Item<long>());
        Assert.Contains("promote_types: torch.uint8 with torch.int8 promotes to torch.int16 in PyTorch, which Ember does not have",
            Assert.Throws<NotSupportedException>(() => DTypeExtensions.Promote(DType.UInt8, DType.Int8)).Message);
        // F.conv2d on bfloat16 runs (widened to float32, rounded back) and keeps the dtype, as PyTorch's bfloat16 conv2d does
        var conv = F.Conv2d(Torch.Ones(1, 1, 3, 3).To(DType.BFloat16), Torch.Ones(1, 1, 2, 2).To(DType.BFloat16));
        Assert.Equal(DType.BFloat16, conv.DType);
        Assert.Equal([4.0, 4, 4, 4], conv.ToDoubleArray());
        // an op with no half path says so in PyTorch's "not implemented for" words, naming the op and the dtype
        var asin = Assert.Throws<NotSupportedException>(() => Torch.Zeros(2).To(DType.BFloat16).Asin()).Message;
        Assert.Contains("asin", asin);
        Assert.Contains("not implemented for torch.bfloat16", asin);
    }

    [Fact]
    public void A_bfloat16_parameter_trains_with_Adam_and_keeps_bfloat16_state()
    {
        var p = Torch.FromArray([0.5, -0.25], [2]).To(DType.BFloat16).RequiresGradInPlace();
        var opt = new Adam([p], new AdamOptions { LearningRate = 0.01 });
        (p * p).Sum().Backward();           // d/dp Σp² = 2p, in bfloat16
        Assert.Equal(DType.BFloat16, p.Grad!.DType);
        opt.Step();
        Assert.Equal(DType.BFloat16, p.DType);
        Assert.Equal(DType.BFloat16, opt.State(p)!.ExpAvg.DType);
        // Adam's first step moves each value by lr against the gradient's sign: 0.49 and −0.24, rounded to bfloat16
        Assert.Equal(Torch.FromArray([0.49, -0.24], [2]).To(DType.BFloat16).ToDoubleArray(), p.ToDoubleArray());
    }
}
