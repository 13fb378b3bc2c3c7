using Ember.Autograd;
using Ember.Detection.Model;
using Ember.Ops;

namespace Ember.Tests.Ops;

public class YoloDecodeOpTests
{
    static readonly double[] Strides = [8, 16, 32];

    static Tensor[] RawMaps(DType dtype, int batch, int outputs, long seed)
    {
        var g = new Generator(seed);
        return [Torch.Randn([batch, 3, 4, 5, outputs], dtype, g), Torch.Randn([batch, 3, 2, 3, outputs], dtype, g), Torch.Randn([batch, 3, 1, 2, outputs], dtype, g)];
    }

    // float64 finite differences through every column kind (xy, wh, objectness, classes) of all three levels, then the
    // backward's own backward (it is written with differentiable ops).
    [Fact]
    public void Gradcheck_in_float64_first_and_second_order()
    {
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], Strides);
        var anchors = head.Anchors.To(DType.Float64);
        var raw = RawMaps(DType.Float64, 2, 7, 3).Select(r => r.RequiresGradInPlace()).ToArray();
        // scaled by 1/stride so the pixel-sized box columns do not swamp the tolerance
        GradCheck.Check(t => YoloDecodeOp.Forward(t, anchors, Strides) * 0.01, raw, atol: 1e-6, rtol: 1e-4);
        GradCheck.CheckSecondOrder(t => YoloDecodeOp.Forward(t, anchors, Strides) * 0.01, raw, atol: 1e-6, rtol: 1e-4);
    }

    [Fact]
    public void Gradient_equals_the_composed_forms_gradient()
    {
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], Strides);
        var a = RawMaps(DType.Float64, 2, 7, 11).Select(r => r.RequiresGradInPlace()).ToArray();
        var b = a.Select(r => r.Detach().RequiresGradInPlace()).ToArray();
        var weights = Torch.Randn([2, 3 * (20 + 6 + 2), 7], DType.Float64, new Generator(12));
        (head.Decode(a) * weights).Sum().Backward();
        (head.DecodeComposed(b) * weights).Sum().Backward();
        Assert.Equal("YoloDecodeBackward", head.Decode(a).GradFn);
        for (int i = 0; i < 3; i++) TestUtil.Close(b[i].Grad!, a[i].Grad!, 1e-12, 1e-12);
    }

    [Fact]
    public void Bad_inputs_name_the_op_and_what_was_expected()
    {
        var anchors = Torch.Ones([3, 3, 2]);
        var raw = RawMaps(DType.Float32, 1, 7, 1);
        var ex = Assert.Throws<ArgumentException>(() => YoloDecodeOp.Forward([raw[0], raw[1], Torch.Randn([1, 3, 1, 2, 6])], anchors, Strides));
        Assert.Contains("yolo_decode: expected level 2 as (1, 3, H, W, 7)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => YoloDecodeOp.Forward(raw, Torch.Ones([3, 2, 2]), Strides));
        Assert.Contains("expected anchors (3, 3, 2), got shape [3, 2, 2]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => YoloDecodeOp.Forward(raw, anchors, [8, 16]));
        Assert.Contains("one stride per level (3), got 2", ex.Message);
        var dtypeError = Assert.Throws<NotSupportedException>(() => YoloDecodeOp.Forward(raw.Select(r => r.To(DType.Int32)).ToArray(), anchors, Strides));
        Assert.Contains("yolo_decode: not implemented for torch.int32", dtypeError.Message);
    }
}
