namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="NAdam"/> (torch.optim.NAdam's arguments).</summary>
public sealed record NAdamOptions : OptimizerOptions, IBetasOptions
{
    /// <summary>Defaults as PyTorch: lr 2e-3, betas (0.9, 0.999), eps 1e-8, momentum decay 4e-3, no weight decay.</summary>
    public NAdamOptions() => LearningRate = 2e-3;

    /// <inheritdoc/>
    public (double Beta1, double Beta2) Betas { get; set; } = (0.9, 0.999);
    /// <summary>Term added to the denominator.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>Weight decay: L2 added to the gradient, or decoupled (θ ← θ·(1 − lr·λ)) with <see cref="DecoupledWeightDecay"/>.</summary>
    public double WeightDecay { get; set; }
    /// <summary>ψ in the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)).</summary>
    public double MomentumDecay { get; set; } = 4e-3;
    /// <summary>Decoupled weight decay, as AdamW (NAdamW).</summary>
    public bool DecoupledWeightDecay { get; set; }
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, Eps, "epsilon value");
        CheckBetas(optimizer, Betas);
        NonNegative(optimizer, WeightDecay, "weight_decay value");
        NonNegative(optimizer, MomentumDecay, "momentum_decay value");
    }

    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("betas.0", Betas.Beta1), ("betas.1", Betas.Beta2), ("eps", Eps), ("weight_decay", WeightDecay),
        ("momentum_decay", MomentumDecay), ("decoupled_weight_decay", DecoupledWeightDecay ? 1 : 0), ("maximize", Maximize ? 1 : 0)]);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Betas = (scalar("betas.0"), scalar("betas.1")); Eps = scalar("eps"); WeightDecay = scalar("weight_decay");
        MomentumDecay = scalar("momentum_decay"); DecoupledWeightDecay = scalar("decoupled_weight_decay") != 0; Maximize = scalar("maximize") != 0;
    }
}
