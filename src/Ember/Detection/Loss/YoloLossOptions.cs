namespace Ember.Detection.Loss;

/// <summary>
/// Hyper-parameters of <see cref="YoloLoss"/>; the defaults are YOLOv5's data/hyps/hyp.scratch-low.yaml before
/// train.py's scaling (see <see cref="ScaledFor"/>).
/// </summary>
public sealed record YoloLossOptions
{
    /// <summary>Box (CIoU) loss gain, hyp['box'] (0.05).</summary>
    public double Box { get; init; } = 0.05;

    /// <summary>Objectness loss gain, hyp['obj'] (1.0).</summary>
    public double Objectness { get; init; } = 1.0;

    /// <summary>Class loss gain, hyp['cls'] (0.5).</summary>
    public double Class { get; init; } = 0.5;

    /// <summary>BCE positive weight of the class loss, hyp['cls_pw'] (1.0).</summary>
    public double ClassPosWeight { get; init; } = 1.0;

    /// <summary>BCE positive weight of the objectness loss, hyp['obj_pw'] (1.0).</summary>
    public double ObjectnessPosWeight { get; init; } = 1.0;

    /// <summary>Anchor-multiple threshold, hyp['anchor_t'] (4.0): a box is assigned to an anchor when neither side differs by more than this factor.</summary>
    public double AnchorThreshold { get; init; } = 4.0;

    /// <summary>Focal-loss γ, hyp['fl_gamma'] (0 = plain BCE); when positive both BCEs are wrapped in YOLOv5's FocalLoss (α = 0.25).</summary>
    public double FocalGamma { get; init; }

    /// <summary>Label smoothing ε: class targets become 1 − ε/2 and ε/2 (YOLOv5's smooth_BCE).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Objectness weight per level, small stride first; null = YOLOv5's [4.0, 1.0, 0.4] for 3 levels ([4.0, 1.0, 0.25, 0.06, 0.02] otherwise).</summary>
    public IReadOnlyList<double>? Balance { get; init; }

    /// <summary>
    /// The gains scaled as YOLOv5's train.py does for <paramref name="numLevels"/> detection levels,
    /// <paramref name="numClasses"/> classes and a training image size of <paramref name="imageSize"/> pixels:
    /// box ·= 3/nl, cls ·= nc/80 · 3/nl, obj ·= (imgsz/640)² · 3/nl.
    /// </summary>
    public YoloLossOptions ScaledFor(int numLevels, int numClasses, int imageSize) => this with
    {
        Box = Box * 3.0 / numLevels,
        Class = Class * numClasses / 80.0 * 3.0 / numLevels,
        Objectness = Objectness * Math.Pow(imageSize / 640.0, 2) * 3.0 / numLevels,
    };

    /// <summary>The per-level objectness weights for <paramref name="numLevels"/> levels.</summary>
    public double[] BalanceFor(int numLevels)
    {
        var b = Balance ?? (numLevels == 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02]);
        if (b.Count < numLevels) throw new ArgumentException($"YoloLoss: expected at least {numLevels} balance weights (one per level), got {b.Count}");
        var r = new double[numLevels];
        for (int i = 0; i < numLevels; i++) r[i] = b[i];
        return r;
    }

    internal void Validate()
    {
        if (!(AnchorThreshold > 1)) throw new ArgumentException($"YoloLoss: anchor threshold must be > 1, got {AnchorThreshold}");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) throw new ArgumentException($"YoloLoss: label smoothing must be in [0, 1), got {LabelSmoothing}");
        if (!(FocalGamma >= 0)) throw new ArgumentException($"YoloLoss: focal gamma must be >= 0, got {FocalGamma}");
        if (!(Box >= 0 && Objectness >= 0 && Class >= 0)) throw new ArgumentException($"YoloLoss: gains must be >= 0, got box {Box}, obj {Objectness}, cls {Class}");
    }
}
