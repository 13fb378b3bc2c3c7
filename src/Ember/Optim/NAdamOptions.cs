namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="NAdam"/> (torch.optim.NAdam's arguments).</summary>
public sealed record NAdamOptions : AdaptiveMomentOptions
{
    /// <summary>Defaults as PyTorch: lr 2e-3, betas (0.9, 0.999), eps 1e-8, momentum decay 4e-3, no weight decay.</summary>
    public NAdamOptions() : base(2e-3) { }

    /// <summary>ψ in the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)).</summary>
    public double MomentumDecay { get; set; } = 4e-3;
    /// <summary>Decoupled weight decay, as AdamW (NAdamW).</summary>
    public bool DecoupledWeightDecay { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, MomentumDecay, "momentum_decay value");
    }

    private protected override IEnumerable<(string Name, double Value)> OwnScalars() =>
        [("momentum_decay", MomentumDecay), ("decoupled_weight_decay", DecoupledWeightDecay ? 1 : 0)];

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        MomentumDecay = scalar("momentum_decay"); DecoupledWeightDecay = scalar("decoupled_weight_decay") != 0;
    }
}
