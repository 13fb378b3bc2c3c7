using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// The notes' (YOLOv5's) FocalLoss: wraps a <see cref="BCEWithLogitsLoss"/>, takes over its reduction and sets the
/// wrapped loss's reduction to None, then multiplies each element by α_factor·(1 − p_t)^γ before reducing.
/// The wrapped loss's weight and posWeight still apply. See <see cref="F.FocalLoss"/>.
/// </summary>
public sealed class FocalLoss : Loss
{
    readonly BCEWithLogitsLoss lossFcn;

    /// <summary>The reduction taken over from the wrapped loss.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Exponent of the modulating factor (1 − p_t); the notes suggest starting at 2 and trying ±0.5.</summary>
    public double Gamma { get; }

    /// <summary>Weight of positives; negatives get 1 − α.</summary>
    public double Alpha { get; }

    /// <summary>Wraps <paramref name="lossFcn"/> (a new mean-reduced BCEWithLogitsLoss when null).</summary>
    public FocalLoss(BCEWithLogitsLoss? lossFcn = null, double gamma = 1.5, double alpha = 0.25)
    {
        this.lossFcn = RegisterModule("loss_fcn", lossFcn ?? new BCEWithLogitsLoss());
        Gamma = gamma;
        Alpha = alpha;
        Reduction = this.lossFcn.Reduction;
        this.lossFcn.Reduction = Reduction.None; // focal weighting needs the per-element values
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target)
        => F.FocalLoss(input, target, Gamma, Alpha, Reduction, elementLoss: lossFcn.Forward(input, target));

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"gamma={Gamma}, alpha={Alpha}, reduction={Reduction}";
}
