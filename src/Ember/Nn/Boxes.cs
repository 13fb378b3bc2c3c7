using System.Numerics;

namespace Ember.Nn;

/// <summary>
/// Bounding-box utilities in the torchvision.ops mould: format conversion, areas, the pairwise IoU matrix, NMS
/// (plain and per class), and IoU/GIoU/DIoU/CIoU between matched boxes as YOLOv5's bbox_iou computes them.
/// Boxes are [..., 4] tensors; pairwise functions and NMS take [N, 4] in XYXY.
/// </summary>
public static class Boxes
{
    /// <summary>Converts boxes between formats (torchvision.ops.box_convert); differentiable.</summary>
    public static Tensor Convert(Tensor boxes, BoxFormat from, BoxFormat to)
    {
        CheckBoxes("box_convert", boxes, "boxes");
        if (from == to) return boxes.Clone();
        var (x1, y1, x2, y2) = Corners(boxes, from);
        Tensor[] parts = to switch
        {
            BoxFormat.XYXY => [x1, y1, x2, y2],
            BoxFormat.XYWH => [x1, y1, x2 - x1, y2 - y1],
            _ => [(x1 + x2) / 2.0, (y1 + y2) / 2.0, x2 - x1, y2 - y1],
        };
        return Torch.Stack(parts, -1);
    }

    /// <summary>Areas of XYXY boxes [..., 4] → [...] (torchvision.ops.box_area).</summary>
    public static Tensor Area(Tensor boxes)
    {
        CheckBoxes("box_area", boxes, "boxes");
        return (boxes.Select(-1, 2) - boxes.Select(-1, 0)) * (boxes.Select(-1, 3) - boxes.Select(-1, 1));
    }

    /// <summary>
    /// IoU of every pair of XYXY boxes, [N, 4] × [M, 4] → [N, M] (torchvision.ops.box_iou):
    /// inter / (area₁ + area₂ − inter) with inter = clamp(min(x2) − max(x1), 0)·clamp(min(y2) − max(y1), 0).
    /// </summary>
    public static Tensor PairwiseIou(Tensor boxes1, Tensor boxes2)
    {
        CheckPairwise("box_iou", boxes1, boxes2);
        var (inter, union) = InterUnion(boxes1, boxes2);
        return inter / union;
    }

    /// <summary>Generalized IoU of every pair of XYXY boxes, [N, M] (torchvision.ops.generalized_box_iou).</summary>
    public static Tensor PairwiseGeneralizedIou(Tensor boxes1, Tensor boxes2)
    {
        CheckPairwise("generalized_box_iou", boxes1, boxes2);
        var (inter, union) = InterUnion(boxes1, boxes2);
        var iou = inter / union;
        var a = boxes1.Unsqueeze(1); var b = boxes2.Unsqueeze(0);
        var w = (a.Select(-1, 2).Maximum(b.Select(-1, 2)) - a.Select(-1, 0).Minimum(b.Select(-1, 0))).Clamp(min: 0);
        var h = (a.Select(-1, 3).Maximum(b.Select(-1, 3)) - a.Select(-1, 1).Minimum(b.Select(-1, 1))).Clamp(min: 0);
        var area = w * h;
        return iou - (area - union) / area;
    }

    static (Tensor Inter, Tensor Union) InterUnion(Tensor boxes1, Tensor boxes2)
    {
        var area1 = Area(boxes1); var area2 = Area(boxes2);
        var a = boxes1.Unsqueeze(1); var b = boxes2.Unsqueeze(0); // [N, 1, 4] against [1, M, 4]
        var w = (a.Select(-1, 2).Minimum(b.Select(-1, 2)) - a.Select(-1, 0).Maximum(b.Select(-1, 0))).Clamp(min: 0);
        var h = (a.Select(-1, 3).Minimum(b.Select(-1, 3)) - a.Select(-1, 1).Maximum(b.Select(-1, 1))).Clamp(min: 0);
        var inter = w * h;
        return (inter, area1.Unsqueeze(1) + area2.Unsqueeze(0) - inter);
    }

    /// <summary>
    /// Non-maximum suppression (torchvision.ops.nms): visits XYXY boxes by decreasing score (ties in input order)
    /// and drops every later box whose IoU with a kept one is greater than <paramref name="iouThreshold"/>.
    /// Returns the kept indices (int64) by decreasing score. Computed in the boxes' dtype, as torchvision does.
    /// </summary>
    public static Tensor Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        CheckNms("nms", boxes, scores);
        var keep = boxes.DType == DType.Float64
            ? NmsCore(boxes.Detach().Contiguous().ToArray<double>(), scores.Detach().To(DType.Float64).ToArray<double>(), iouThreshold)
            : NmsCore(boxes.Detach().To(DType.Float32).Contiguous().ToArray<float>(), scores.Detach().To(DType.Float32).ToArray<float>(), (float)iouThreshold);
        return Torch.FromArray(keep.ToArray(), [keep.Count]);
    }

    /// <summary>
    /// NMS within each class only (torchvision.ops.batched_nms): boxes of different <paramref name="classes"/> (int64,
    /// [N]) never suppress each other. Returns kept indices by decreasing score, at most <paramref name="maxDetections"/>
    /// of them when it is non-negative.
    /// </summary>
    public static Tensor BatchedNms(Tensor boxes, Tensor scores, Tensor classes, double iouThreshold, int maxDetections = -1)
    {
        CheckNms("batched_nms", boxes, scores);
        if (classes.DType != DType.Int64 || classes.Rank != 1 || classes.Size(0) != boxes.Size(0))
            throw new ArgumentException($"batched_nms: expected int64 class indices of shape [{boxes.Size(0)}], got {classes.DType.TorchName()} {classes.Shape}");
        var cls = classes.ToArray<long>();
        var kept = new List<long>();
        foreach (var c in cls.Distinct().Order())
        {
            var members = Enumerable.Range(0, cls.Length).Where(i => cls[i] == c).Select(i => (long)i).ToArray();
            var index = Torch.FromArray(members, [members.Length]);
            var local = Nms(boxes.IndexSelect(0, index), scores.IndexSelect(0, index), iouThreshold).ToArray<long>();
            foreach (var k in local) kept.Add(members[k]);
        }
        // by decreasing score, ties by index: the order torchvision's single NMS over class-offset boxes gives
        var s = scores.Detach().ToDoubleArray();
        var ordered = kept.OrderBy(i => i).OrderByDescending(i => s[i]).ToList();
        if (maxDetections >= 0 && ordered.Count > maxDetections) ordered = ordered.Take(maxDetections).ToList();
        return Torch.FromArray(ordered.ToArray(), [ordered.Count]);
    }

    static List<long> NmsCore<T>(T[] b, T[] scores, T threshold) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = scores.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ToArray(); // stable, as torchvision's sort
        var areas = new T[n];
        for (int i = 0; i < n; i++) areas[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
        var suppressed = new bool[n];
        var keep = new List<long>();
        for (int oi = 0; oi < n; oi++)
        {
            int i = order[oi];
            if (suppressed[i]) continue;
            keep.Add(i);
            for (int oj = oi + 1; oj < n; oj++)
            {
                int j = order[oj];
                if (suppressed[j]) continue;
                var w = T.Max(T.Zero, T.Min(b[4 * i + 2], b[4 * j + 2]) - T.Max(b[4 * i], b[4 * j]));
                var h = T.Max(T.Zero, T.Min(b[4 * i + 3], b[4 * j + 3]) - T.Max(b[4 * i + 1], b[4 * j + 1]));
                var inter = w * h;
                if (inter / (areas[i] + areas[j] - inter) > threshold) suppressed[j] = true;
            }
        }
        return keep;
    }

    /// <summary>
    /// IoU, GIoU, DIoU or CIoU between matched boxes (YOLOv5's bbox_iou): box1 and box2 are [..., 4] and broadcast;
    /// the result is [...]. eps (1e-7) keeps the union, enclosing area and diagonal away from zero. For CIoU the
    /// weight α = v / (v − IoU + 1 + eps) is computed without gradient, as YOLOv5 and the CIoU paper do.
    /// XYXY boxes have their heights clamped at eps (YOLOv5's xyxy branch); CXCYWH boxes follow YOLOv5's xywh branch;
    /// XYWH boxes are converted to XYXY first.
    /// </summary>
    public static Tensor MatchedIou(Tensor box1, Tensor box2, IoUKind kind = IoUKind.IoU, BoxFormat format = BoxFormat.XYXY, double eps = 1e-7)
    {
        CheckBoxes("bbox_iou", box1, "box1");
        CheckBoxes("bbox_iou", box2, "box2");
        Tensor b1x1, b1y1, b1x2, b1y2, b2x1, b2y1, b2x2, b2y2, w1, h1, w2, h2;
        if (format == BoxFormat.CXCYWH)
        {
            Tensor x1 = box1.Select(-1, 0), y1 = box1.Select(-1, 1), x2 = box2.Select(-1, 0), y2 = box2.Select(-1, 1);
            w1 = box1.Select(-1, 2); h1 = box1.Select(-1, 3); w2 = box2.Select(-1, 2); h2 = box2.Select(-1, 3);
            Tensor w1h = w1 / 2.0, h1h = h1 / 2.0, w2h = w2 / 2.0, h2h = h2 / 2.0;
            (b1x1, b1x2, b1y1, b1y2) = (x1 - w1h, x1 + w1h, y1 - h1h, y1 + h1h);
            (b2x1, b2x2, b2y1, b2y2) = (x2 - w2h, x2 + w2h, y2 - h2h, y2 + h2h);
        }
        else
        {
            if (format == BoxFormat.XYWH) { box1 = Convert(box1, format, BoxFormat.XYXY); box2 = Convert(box2, format, BoxFormat.XYXY); }
            (b1x1, b1y1, b1x2, b1y2) = (box1.Select(-1, 0), box1.Select(-1, 1), box1.Select(-1, 2), box1.Select(-1, 3));
            (b2x1, b2y1, b2x2, b2y2) = (box2.Select(-1, 0), box2.Select(-1, 1), box2.Select(-1, 2), box2.Select(-1, 3));
            w1 = b1x2 - b1x1; h1 = (b1y2 - b1y1).Clamp(min: eps);
            w2 = b2x2 - b2x1; h2 = (b2y2 - b2y1).Clamp(min: eps);
        }

        var inter = (b1x2.Minimum(b2x2) - b1x1.Maximum(b2x1)).Clamp(min: 0) * (b1y2.Minimum(b2y2) - b1y1.Maximum(b2y1)).Clamp(min: 0);
        var union = w1 * h1 + w2 * h2 - inter + eps;
        var iou = inter / union;
        if (kind == IoUKind.IoU) return iou;

        var cw = b1x2.Maximum(b2x2) - b1x1.Minimum(b2x1); // smallest enclosing box
        var ch = b1y2.Maximum(b2y2) - b1y1.Minimum(b2y1);
        if (kind == IoUKind.GIoU)
        {
            var cArea = cw * ch + eps;
            return iou - (cArea - union) / cArea;
        }
        var c2 = cw.Square() + ch.Square() + eps; // enclosing diagonal squared
        var rho2 = ((b2x1 + b2x2 - b1x1 - b1x2).Square() + (b2y1 + b2y2 - b1y1 - b1y2).Square()) / 4.0; // centre distance squared
        if (kind == IoUKind.DIoU) return iou - rho2 / c2;

        var v = (w2 / h2).Atan().Sub((w1 / h1).Atan()).Square() * (4 / (Math.PI * Math.PI));
        Tensor alpha;
        using (Torch.NoGrad()) alpha = v / (v - iou + (1 + eps));
        return iou - (rho2 / c2 + v * alpha);
    }

    static (Tensor X1, Tensor Y1, Tensor X2, Tensor Y2) Corners(Tensor b, BoxFormat format)
    {
        Tensor a0 = b.Select(-1, 0), a1 = b.Select(-1, 1), a2 = b.Select(-1, 2), a3 = b.Select(-1, 3);
        return format switch
        {
            BoxFormat.XYXY => (a0, a1, a2, a3),
            BoxFormat.XYWH => (a0, a1, a0 + a2, a1 + a3),
            _ => (a0 - a2 * 0.5, a1 - a3 * 0.5, a0 + a2 * 0.5, a1 + a3 * 0.5),
        };
    }

    static void CheckBoxes(string op, Tensor boxes, string name)
    {
        if (boxes.Rank == 0 || boxes.Size(-1) != 4)
            throw new ArgumentException($"{op}: expected {name} of shape [..., 4], got {boxes.Shape}");
        if (!boxes.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected floating-point {name}, got {boxes.DType.TorchName()}");
    }

    static void CheckPairwise(string op, Tensor boxes1, Tensor boxes2)
    {
        if (boxes1.Rank != 2 || boxes1.Size(1) != 4 || boxes2.Rank != 2 || boxes2.Size(1) != 4)
            throw new ArgumentException($"{op}: expected boxes1 [N, 4] and boxes2 [M, 4], got {boxes1.Shape} and {boxes2.Shape}");
    }

    static void CheckNms(string op, Tensor boxes, Tensor scores)
    {
        if (boxes.Rank != 2 || boxes.Size(1) != 4 || scores.Rank != 1 || scores.Size(0) != boxes.Size(0))
            throw new ArgumentException($"{op}: expected boxes [N, 4] and scores [N], got boxes {boxes.Shape} and scores {scores.Shape}");
    }
}
