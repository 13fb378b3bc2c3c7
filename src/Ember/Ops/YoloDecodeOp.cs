using Ember.Autograd;
using Ember.Kernels.Detection;

namespace Ember.Ops;

/// <summary>
/// YOLOv5's inference decode of a Detect head's raw maps in one op: level i's raw (N, na, Hᵢ, Wᵢ, no) with s = σ(raw)
/// becomes rows [Σ_{j&lt;i} na·Hⱼ·Wⱼ, …) of the output (N, Σ na·H·W, no): xy = (2·s + cell − 0.5)·strideᵢ,
/// wh = (2·s)²·anchor (pixels), the other columns s. The forward is one pass of <see cref="YoloDecodeKernel"/> per level;
/// the backward, written with differentiable ops, is grad·s·(1 − s)·[2·stride, 2·stride, 8·s·anchor_w, 8·s·anchor_h, 1, …].
/// The composed form (DetectHead.DecodeComposed) is its test oracle.
/// </summary>
internal static class YoloDecodeOp
{
    const string Op = "yolo_decode";

    /// <param name="raw">Per level (N, na, H, W, no), float32 or float64, one dtype, one N, na and no (at least 4).</param>
    /// <param name="anchors">(levels, na, 2): (w, h) in pixels.</param>
    /// <param name="strides">Each level's stride in pixels.</param>
    public static Tensor Forward(Tensor[] raw, Tensor anchors, IReadOnlyList<double> strides)
    {
        if (raw.Length == 0) throw new ArgumentException($"{Op}: expected at least one level, got none");
        if (strides.Count != raw.Length) throw new ArgumentException($"{Op}: expected one stride per level ({raw.Length}), got {strides.Count}");
        var first = raw[0];
        if (first.Rank != 5) throw new ArgumentException($"{Op}: expected level 0 as (N, na, H, W, no), got shape {first.Shape}");
        first.DType.RequireFloat32Or64(Op);
        int n = first.Size(0), na = first.Size(1), no = first.Size(4), total = 0;
        if (no < 4) throw new ArgumentException($"{Op}: expected at least 4 outputs per anchor (x, y, w, h), got {no} (level 0 shape {first.Shape})");
        for (int i = 0; i < raw.Length; i++)
        {
            var p = raw[i];
            if (p.DType != first.DType || p.Rank != 5 || p.Size(0) != n || p.Size(1) != na || p.Size(4) != no)
                throw new ArgumentException($"{Op}: expected level {i} as ({n}, {na}, H, W, {no}) {first.DType.TorchName()} like level 0, got shape {p.Shape} {p.DType.TorchName()}");
            total += na * p.Size(2) * p.Size(3);
        }
        if (anchors.Rank != 3 || anchors.Size(0) != raw.Length || anchors.Size(1) != na || anchors.Size(2) != 2)
            throw new ArgumentException($"{Op}: expected anchors ({raw.Length}, {na}, 2), got shape {anchors.Shape}");

        var y = Torch.Empty([n, total, no], first.DType);
        for (int i = 0, offset = 0; i < raw.Length; i++)
        {
            var p = raw[i].Contiguous();
            int h = p.Size(2), w = p.Size(3);
            var levelAnchors = anchors.Select(0, i).To(p.DType).Contiguous();
            if (p.DType == DType.Float32)
                YoloDecodeKernel.DecodeLevel(p.Span<float>(), levelAnchors.Span<float>(), n, na, h, w, no, (float)strides[i], y.Span<float>(), offset, total);
            else
                YoloDecodeKernel.DecodeLevel(p.Span<double>(), levelAnchors.Span<double>(), n, na, h, w, no, strides[i], y.Span<double>(), offset, total);
            GC.KeepAlive(p);
            offset += na * h * w;
        }
        var inputs = raw.ToArray();
        return Recording.Many(y, "YoloDecodeBackward", inputs, (g, node) => Backward(g, inputs, anchors, strides, node));
    }

    static Tensor?[] Backward(Tensor grad, Tensor[] raw, Tensor anchors, IReadOnlyList<double> strides, Node node)
    {
        var grads = new Tensor?[raw.Length];
        for (int i = 0, offset = 0; i < raw.Length; i++)
        {
            var p = raw[i];
            int n = p.Size(0), na = p.Size(1), h = p.Size(2), w = p.Size(3), no = p.Size(4), rows = na * h * w;
            if (node.NeedsInputGrad(i))
            {
                var g = grad.Narrow(1, offset, rows).Reshape(n, na, h, w, no);
                var s = p.Sigmoid();
                var anchorGrid = anchors.Select(0, i).To(p.DType).Reshape(1, na, 1, 1, 2);
                // d(output)/d(s) column by column: 2·stride for xy, 8·s·anchor for wh, 1 for objectness and classes
                var xy = Torch.Full([1, 1, 1, 1, 2], 2 * strides[i], p.DType).Expand(n, na, h, w, 2);
                var wh = s.Narrow(-1, 2, 2) * 8.0 * anchorGrid;
                var rest = Torch.Ones([1, 1, 1, 1, no - 4], p.DType).Expand(n, na, h, w, no - 4);
                var ds = Torch.Cat([xy, wh, rest], -1);
                grads[i] = g * ds * s * (1.0 - s);
            }
            offset += rows;
        }
        return grads;
    }
}
