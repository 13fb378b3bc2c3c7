using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// RetinaNet's focal loss in torchvision's form (torchvision.ops.sigmoid_focal_loss as a module); alpha &lt; 0 disables
/// the class balancing. Like torchvision, the reduction defaults to None. See <see cref="F.SigmoidFocalLoss"/>.
/// </summary>
public sealed class SigmoidFocalLoss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Weight of positives in (0, 1); negative to disable.</summary>
    public double Alpha { get; }

    /// <summary>Exponent of the modulating factor (1 − p_t).</summary>
    public double Gamma { get; }

    /// <summary>Creates the loss.</summary>
    public SigmoidFocalLoss(double alpha = 0.25, double gamma = 2, Reduction reduction = Reduction.None)
    {
        Alpha = alpha;
        Gamma = gamma;
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SigmoidFocalLoss(input, target, Alpha, Gamma, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"alpha={Alpha}, gamma={Gamma}, reduction={Reduction}";
}
