using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn;

public class BoxesTests
{
    static readonly Tensor Xyxy = Torch.Tensor(new double[,] { { 0, 0, 4, 2 }, { 1, 1, 3, 5 }, { -2, 3, 0, 4 } });

    [Fact]
    public void Convert_between_all_formats_round_trips()
    {
        var xywh = Boxes.Convert(Xyxy, BoxFormat.XYXY, BoxFormat.XYWH);
        var cxcywh = Boxes.Convert(Xyxy, BoxFormat.XYXY, BoxFormat.CXCYWH);
        TestUtil.Close([0, 0, 4, 2, 1, 1, 2, 4, -2, 3, 2, 1], xywh, rtol: 0, atol: 0);
        TestUtil.Close([2, 1, 4, 2, 2, 3, 2, 4, -1, 3.5, 2, 1], cxcywh, rtol: 0, atol: 0);
        TestUtil.Close(Xyxy, Boxes.Convert(xywh, BoxFormat.XYWH, BoxFormat.XYXY), 0, 0);
        TestUtil.Close(Xyxy, Boxes.Convert(cxcywh, BoxFormat.CXCYWH, BoxFormat.XYXY), 0, 0);
        TestUtil.Close(xywh, Boxes.Convert(cxcywh, BoxFormat.CXCYWH, BoxFormat.XYWH), 0, 0);
        TestUtil.Close(cxcywh, Boxes.Convert(xywh, BoxFormat.XYWH, BoxFormat.CXCYWH), 0, 0);
        TestUtil.Close([8, 8, 2], Boxes.Area(Xyxy), 0, 0);
    }

    [Fact]
    public void Pairwise_iou_matches_hand_values_and_generalized_iou_penalizes_distance()
    {
        var iou = Boxes.PairwiseIou(Xyxy, Xyxy);
        Assert.Equal([3, 3], iou.Shape.ToArray());
        // boxes 0 and 1 overlap in [1, 3]×[1, 2] = 2; union 8 + 8 − 2 = 14; box 2 touches neither
        TestUtil.Close([1, 2.0 / 14, 0, 2.0 / 14, 1, 0, 0, 0, 1], iou, rtol: 1e-12);
        var giou = Boxes.PairwiseGeneralizedIou(Xyxy, Xyxy);
        // boxes 0 and 2: enclosing [−2, 4]×[0, 4] = 24, union 10 → 0 − 14/24
        Assert.Equal(-14.0 / 24, giou.ToDoubleArray()[2], 12);
        TestUtil.Close(Boxes.MatchedIou(Xyxy, Xyxy.Flip(0), IoUKind.GIoU), Torch.Stack([giou[0, 2], giou[1, 1], giou[2, 0]]), rtol: 1e-6);
    }

    [Fact]
    public void Nms_keeps_the_best_box_of_each_overlapping_group_in_score_order()
    {
        var boxes = Torch.Tensor(new float[,] { { 0, 0, 10, 10 }, { 1, 1, 11, 11 }, { 50, 50, 60, 60 }, { 0, 0, 10, 10 }, { 51, 50, 61, 60 }, { 100, 100, 101, 101 } });
        var scores = Torch.Tensor(0.9f, 0.95f, 0.5f, 0.3f, 0.6f, 0.1f);
        // IoU(0, 1) = 81/119 ≈ 0.68; IoU(2, 4) = 90/110 ≈ 0.82
        Assert.Equal([1L, 4L, 5L], Boxes.Nms(boxes, scores, 0.5).ToArray<long>());
        Assert.Equal([1L, 0L, 4L, 5L], Boxes.Nms(boxes, scores, 0.7).ToArray<long>());
        Assert.Equal([1L, 0L, 4L, 2L, 3L, 5L], Boxes.Nms(boxes, scores, 1.0).ToArray<long>()); // nothing has IoU > 1
        // at 0.6 box 0 and its duplicate 3 both fall to box 1 (IoU 0.68 each)
        Assert.Equal([1L, 4L, 5L], Boxes.Nms(boxes, scores, 0.6).ToArray<long>());
        Assert.Equal(0, Boxes.Nms(Torch.Zeros(0, 4), Torch.Zeros(0), 0.5).NumEl);
    }

    [Fact]
    public void Batched_nms_only_suppresses_within_a_class_and_caps_detections()
    {
        var boxes = Torch.Tensor(new float[,] { { 0, 0, 10, 10 }, { 1, 1, 11, 11 }, { 0, 0, 10, 10 }, { 50, 50, 60, 60 } });
        var scores = Torch.Tensor(0.9f, 0.8f, 0.7f, 0.95f);
        var classes = Torch.Tensor(0L, 0L, 1L, 0L);
        Assert.Equal([3L, 0L, 2L], Boxes.BatchedNms(boxes, scores, classes, 0.5).ToArray<long>());
        Assert.Equal([3L, 0L], Boxes.BatchedNms(boxes, scores, classes, 0.5, maxDetections: 2).ToArray<long>());
        Assert.Equal([3L, 0L], Boxes.Nms(boxes, scores, 0.5).ToArray<long>());
        var e = Assert.Throws<ArgumentException>(() => Boxes.BatchedNms(boxes, scores, Torch.Tensor(0f, 1f, 0f, 1f), 0.5));
        Assert.Contains("batched_nms", e.Message); Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void Matched_iou_variants_agree_on_identical_boxes_and_order_as_the_papers_say()
    {
        foreach (var kind in Enum.GetValues<IoUKind>())
            TestUtil.Close([1, 1, 1], Boxes.MatchedIou(Xyxy, Xyxy, kind), rtol: 1e-6);
        var a = Torch.Tensor(new double[,] { { 0, 0, 2, 2 } });
        var far = Torch.Tensor(new double[,] { { 3, 0, 5, 2 } });
        var farther = Torch.Tensor(new double[,] { { 6, 0, 8, 2 } });
        // IoU cannot tell the two disjoint boxes apart; GIoU and DIoU can
        Assert.Equal(0, Boxes.MatchedIou(a, far).Item());
        Assert.Equal(0, Boxes.MatchedIou(a, farther).Item());
        Assert.True(Boxes.MatchedIou(a, far, IoUKind.GIoU).Item() > Boxes.MatchedIou(a, farther, IoUKind.GIoU).Item());
        Assert.True(Boxes.MatchedIou(a, far, IoUKind.DIoU).Item() > Boxes.MatchedIou(a, farther, IoUKind.DIoU).Item());
        // CIoU adds the aspect-ratio term: a box with the same centre and IoU but another aspect ratio scores lower
        var square = Torch.Tensor(new double[,] { { -1, -1, 1, 1 } });
        var wide = Torch.Tensor(new double[,] { { -2, -0.5, 2, 0.5 } });
        Assert.True(Boxes.MatchedIou(square, wide, IoUKind.CIoU).Item() < Boxes.MatchedIou(square, wide, IoUKind.DIoU).Item());
    }

    [Theory]
    [InlineData(IoUKind.IoU, BoxFormat.XYXY)]
    [InlineData(IoUKind.GIoU, BoxFormat.XYXY)]
    [InlineData(IoUKind.DIoU, BoxFormat.XYXY)]
    [InlineData(IoUKind.GIoU, BoxFormat.CXCYWH)]
    [InlineData(IoUKind.DIoU, BoxFormat.XYWH)]
    public void Iou_variants_pass_gradcheck_in_both_boxes(IoUKind kind, BoxFormat format)
    {
        var (p, t) = BoxLeaves(format);
        GradCheck.Check(xs => Boxes.MatchedIou(xs[0], xs[1], kind, format), [p, t]);
        GradCheck.Check(xs => F.IouLoss(xs[0], xs[1], kind, format, Reduction.Mean), [p, t]);
    }

    [Theory]
    [InlineData(BoxFormat.XYXY)]
    [InlineData(BoxFormat.CXCYWH)]
    public void CIoU_gradient_treats_alpha_as_a_constant(BoxFormat format)
    {
        // alpha = v/(v − IoU + 1 + eps) is computed without grad (YOLOv5, the CIoU paper): the gradient of CIoU equals
        // the gradient of DIoU − v·alpha₀ with alpha₀ frozen at the current boxes; that function passes gradcheck
        var (p, t) = BoxLeaves(format);
        const double eps = 1e-7;
        Tensor V(Tensor b1, Tensor b2)
        {
            var x1 = Boxes.Convert(b1, format, BoxFormat.XYWH); var x2 = Boxes.Convert(b2, format, BoxFormat.XYWH);
            Tensor h1 = x1.Select(-1, 3), h2 = x2.Select(-1, 3);
            if (format == BoxFormat.XYXY) { h1 = h1.Clamp(min: eps); h2 = h2.Clamp(min: eps); }
            return (x2.Select(-1, 2) / h2).Atan().Sub((x1.Select(-1, 2) / h1).Atan()).Square() * (4 / (Math.PI * Math.PI));
        }
        Tensor alpha0;
        using (Torch.NoGrad())
        {
            var v0 = V(p, t);
            alpha0 = v0 / (v0 - Boxes.MatchedIou(p, t, IoUKind.IoU, format) + (1 + eps));
        }
        Tensor Frozen(Tensor[] xs) => Boxes.MatchedIou(xs[0], xs[1], IoUKind.DIoU, format) - V(xs[0], xs[1]) * alpha0;
        TestUtil.Close(Frozen([p, t]), Boxes.MatchedIou(p, t, IoUKind.CIoU, format), rtol: 1e-12);
        GradCheck.Check(Frozen, [p, t]);
        var g1 = Torch.Grad(Boxes.MatchedIou(p, t, IoUKind.CIoU, format).Sum(), [p, t]);
        var g2 = Torch.Grad(Frozen([p, t]).Sum(), [p, t]);
        TestUtil.Close(g2[0]!, g1[0]!, rtol: 1e-12, atol: 1e-15);
        TestUtil.Close(g2[1]!, g1[1]!, rtol: 1e-12, atol: 1e-15);
    }

    static (Tensor, Tensor) BoxLeaves(BoxFormat format)
    {
        var g = new Generator(5);
        var xy1 = Torch.Rand([5, 2], DType.Float64, g) * 4; var wh1 = Torch.Rand([5, 2], DType.Float64, g) * 3 + 0.5;
        var xy2 = xy1 + (Torch.Rand([5, 2], DType.Float64, g) - 0.5) * 3; var wh2 = Torch.Rand([5, 2], DType.Float64, g) * 3 + 0.5;
        var p = Boxes.Convert(Torch.Cat([xy1, wh1], 1), BoxFormat.XYWH, format).Detach().RequiresGradInPlace();
        var t = Boxes.Convert(Torch.Cat([xy2, wh2], 1), BoxFormat.XYWH, format).Detach().RequiresGradInPlace();
        return (p, t);
    }

    [Fact]
    public void IoULoss_is_one_minus_the_chosen_iou_reduced()
    {
        var (p, t) = BoxLeaves(BoxFormat.XYXY);
        var loss = new IoULoss(IoUKind.GIoU, reduction: Reduction.Sum);
        TestUtil.Close((1.0 - Boxes.MatchedIou(p, t, IoUKind.GIoU)).Sum(), loss.Forward(p, t), rtol: 1e-12);
        Assert.Equal(IoUKind.CIoU, new IoULoss().Kind);
        Assert.Equal([5], new IoULoss(reduction: Reduction.None).Forward(p, t).Shape.ToArray());
    }

    [Fact]
    public void Box_functions_name_the_op_and_the_shape_they_got()
    {
        var e = Assert.Throws<ArgumentException>(() => Boxes.PairwiseIou(Torch.Zeros(3, 4), Torch.Zeros(3, 5)));
        Assert.Contains("box_iou", e.Message); Assert.Contains("[3, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Boxes.MatchedIou(Torch.Zeros(3, 3), Torch.Zeros(3, 4)));
        Assert.Contains("bbox_iou", e.Message); Assert.Contains("[3, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Boxes.Nms(Torch.Zeros(3, 4), Torch.Zeros(2), 0.5));
        Assert.Contains("nms", e.Message); Assert.Contains("scores [2]", e.Message);
    }
}
