using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// Box regression loss 1 − IoU / GIoU / DIoU / CIoU between matched boxes [..., 4] (YOLOv5's box loss uses CIoU, the
/// default here). See <see cref="Boxes.MatchedIou"/> and <see cref="F.IouLoss"/>.
/// </summary>
public sealed class IoULoss : Loss
{
    /// <summary>How per-box losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Which overlap measure.</summary>
    public IoUKind Kind { get; }

    /// <summary>The boxes' layout.</summary>
    public BoxFormat Format { get; }

    /// <summary>Guards divisions (YOLOv5's 1e-7).</summary>
    public double Eps { get; }

    /// <summary>Creates the loss.</summary>
    public IoULoss(IoUKind kind = IoUKind.CIoU, BoxFormat format = BoxFormat.XYXY, Reduction reduction = Reduction.Mean, double eps = 1e-7)
    {
        Kind = kind;
        Format = format;
        Reduction = reduction;
        Eps = eps;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.IouLoss(input, target, Kind, Format, Reduction, Eps);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kind={Kind}, format={Format}, reduction={Reduction}";
}
