namespace Ember.Nn.Functional;

// Box regression loss on matched boxes.
public static partial class F
{
    /// <summary>
    /// 1 − IoU, GIoU, DIoU or CIoU between matched predicted and target boxes [..., 4] (YOLOv5's box loss; torchvision's
    /// generalized/distance/complete_box_iou_loss in spirit), per-box values reduced as asked. See <see cref="Boxes.MatchedIou"/>.
    /// </summary>
    public static Tensor IouLoss(Tensor input, Tensor target, IoUKind kind = IoUKind.CIoU, BoxFormat format = BoxFormat.XYXY,
        Reduction reduction = Reduction.Mean, double eps = 1e-7)
    {
        CheckSameShape("iou_loss", input, target);
        return Reduce(1.0 - Boxes.MatchedIou(input, AsInputType(target, input), kind, format, eps), reduction);
    }
}
