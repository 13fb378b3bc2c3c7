using Ember.Detection.Model;
using Ember.Nn;
using Ember.Nn.Functional;
using LossBase = Ember.Nn.Losses.Loss;

namespace Ember.Detection.Loss;

/// <summary>
/// YOLOv5's ComputeLoss (utils/loss.py). Per level i, with the targets of <see cref="TargetAssignment"/> and s = σ(raw):
/// the predicted box ((2·s_xy − 0.5), (2·s_wh)²·anchor) against the target box gives CIoU; lbox += mean(1 − CIoU);
/// the objectness target is the CIoU, detached and clamped at 0, at the assigned cells and 0 elsewhere, and
/// lobj += balance_i · BCE(raw_obj, tobj) averaged over all N·na·H·W cells; with nc &gt; 1, lcls += BCE(raw_cls, t)
/// averaged over the assigned entries and classes, t = 1 − ε/2 for the true class and ε/2 otherwise. The result is
/// (box·lbox + obj·lobj + cls·lcls)·N. With a focal γ &gt; 0 both BCEs are YOLOv5's FocalLoss (α = 0.25).
/// Targets are (M, 6) rows [image, class, cx, cy, w, h] normalized to [0, 1].
/// </summary>
public sealed class YoloLoss : LossBase
{
    readonly DetectHead head;
    readonly double[] balance;

    /// <summary>The options in use (gains already scaled when the caller passed <see cref="YoloLossOptions.ScaledFor"/>).</summary>
    public YoloLossOptions Options { get; }

    /// <summary>The loss for the model whose head is <paramref name="head"/> (it supplies anchors, strides and, for the flat training output, grid shapes).</summary>
    public YoloLoss(DetectHead head, YoloLossOptions? options = null)
    {
        this.head = head;
        Options = options ?? new YoloLossOptions();
        Options.Validate();
        balance = Options.BalanceFor(head.NumLevels);
    }

    /// <summary>
    /// The total loss of a model's output: <paramref name="input"/> is the flat raw output (N, Σ na·H·W, 5 + nc) of
    /// <see cref="YoloV5"/> in training mode (split with the grid shapes of the head's last forward pass), or its latest
    /// eval-mode (decoded) output, whose raw maps the head kept.
    /// </summary>
    public override Tensor Forward(Tensor input, Tensor target)
        => Compute(head.RawOf(input) ?? head.Split(input, head.LastShapes), target).Total;

    /// <summary>The loss and its parts for the per-level raw maps (N, na, H, W, 5 + nc).</summary>
    public YoloLossResult Compute(IReadOnlyList<Tensor> levels, Tensor targets)
    {
        if (levels.Count != head.NumLevels) throw new ArgumentException($"YoloLoss: expected {head.NumLevels} prediction maps, got {levels.Count}");
        if (targets.Rank != 2 || targets.Size(1) != 6)
            throw new ArgumentException($"YoloLoss: expected targets [M, 6] (image, class, cx, cy, w, h), got {targets.Shape}");
        int nc = head.NumClasses, no = head.NumOutputs, na = head.NumAnchors;
        var t = targets.Detach().To(DType.Float32).Contiguous().ToArray<float>();
        CheckTargets(t, levels[0].Size(0), nc);
        var anchorsPx = head.Anchors.To(DType.Float64).ToArray<double>();
        double cp = 1.0 - 0.5 * Options.LabelSmoothing, cn = 0.5 * Options.LabelSmoothing;
        var dtype = levels[0].DType;
        Tensor? lbox = null, lcls = null, lobj = null;
        int batch = levels[0].Size(0);
        for (int i = 0; i < levels.Count; i++)
        {
            var pi = levels[i];
            if (pi.Rank != 5 || pi.Size(0) != batch || pi.Size(1) != na || pi.Size(4) != no)
                throw new ArgumentException($"YoloLoss: expected level {i} map [{batch}, {na}, H, W, {no}], got {pi.Shape}");
            int h = pi.Size(2), w = pi.Size(3);
            var anchorsGrid = new float[2 * na];
            for (int k = 0; k < 2 * na; k++) anchorsGrid[k] = (float)(anchorsPx[i * 2 * na + k] / head.Strides[i]);
            var lt = TargetAssignment.Build(t, h, w, anchorsGrid, Options.AnchorThreshold);
            var tobj = new double[batch * na * h * w];
            int n = lt.Count;
            if (n > 0)
            {
                var flatIndex = new long[n];
                for (int k = 0; k < n; k++) flatIndex[k] = (((long)lt.Image[k] * na + lt.Anchor[k]) * h + lt.GridY[k]) * w + lt.GridX[k];
                var ps = pi.Reshape(-1, no).IndexSelect(0, Torch.FromArray(flatIndex, [n]));
                var pxy = ps.Narrow(1, 0, 2).Sigmoid() * 2.0 - 0.5;
                var anch = Torch.FromArray(lt.AnchorSize, [n, 2]).To(dtype);
                var pwh = (ps.Narrow(1, 2, 2).Sigmoid() * 2.0).Square() * anch;
                var tbox = Torch.FromArray(lt.Box, [n, 4]).To(dtype);
                var iou = Boxes.MatchedIou(Torch.Cat([pxy, pwh], 1), tbox, IoUKind.CIoU, BoxFormat.CXCYWH);
                var term = (1.0 - iou).Mean();
                lbox = lbox is null ? term : lbox + term;
                var iouValues = iou.Detach().To(DType.Float64).ToArray<double>();
                for (int k = 0; k < n; k++) tobj[flatIndex[k]] = Math.Max(iouValues[k], 0); // later entries overwrite, as index_put_
                if (nc > 1)
                {
                    var tc = new double[n * nc];
                    Array.Fill(tc, cn);
                    for (int k = 0; k < n; k++) tc[k * nc + lt.Class[k]] = cp;
                    var clsTerm = Bce(ps.Narrow(1, 5, nc), Torch.FromArray(tc, [n, nc]).To(dtype), Options.ClassPosWeight);
                    lcls = lcls is null ? clsTerm : lcls + clsTerm;
                }
            }
            var objTerm = Bce(pi.Select(-1, 4), Torch.FromArray(tobj, [batch, na, h, w]).To(dtype), Options.ObjectnessPosWeight) * balance[i];
            lobj = lobj is null ? objTerm : lobj + objTerm;
        }
        var zero = Torch.Zeros([], dtype);
        var box = (lbox ?? zero) * Options.Box;
        var obj = lobj! * Options.Objectness;
        var cls = (lcls ?? zero) * Options.Class;
        var total = (box + obj + cls) * (double)batch;
        return new YoloLossResult(total, box.Detach().ToDoubleArray()[0], obj.Detach().ToDoubleArray()[0], cls.Detach().ToDoubleArray()[0]);
    }

    Tensor Bce(Tensor input, Tensor target, double posWeight)
    {
        var pw = posWeight == 1.0 ? null : Torch.Full([1], posWeight, input.DType);
        if (Options.FocalGamma <= 0) return F.BinaryCrossEntropyWithLogits(input, target, posWeight: pw);
        var element = F.BinaryCrossEntropyWithLogits(input, target, posWeight: pw, reduction: Reduction.None);
        return F.FocalLoss(input, target, Options.FocalGamma, 0.25, Reduction.Mean, elementLoss: element);
    }

    static void CheckTargets(float[] t, int batch, int nc)
    {
        for (int r = 0; r < t.Length / 6; r++)
        {
            int img = (int)t[6 * r], c = (int)t[6 * r + 1];
            if (img < 0 || img >= batch || img != t[6 * r])
                throw new ArgumentException($"YoloLoss: target row {r} has image index {t[6 * r]}, expected an integer in [0, {batch})");
            if (c < 0 || c >= nc || c != t[6 * r + 1])
                throw new ArgumentException($"YoloLoss: target row {r} has class {t[6 * r + 1]}, expected an integer in [0, {nc})");
            if (!(t[6 * r + 4] > 0 && t[6 * r + 5] > 0))
                throw new ArgumentException($"YoloLoss: target row {r} has width/height ({t[6 * r + 4]}, {t[6 * r + 5]}), expected positive normalized sizes");
        }
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"box={Options.Box}, obj={Options.Objectness}, cls={Options.Class}, anchor_t={Options.AnchorThreshold}";
}
