namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="Adam"/> (torch.optim.Adam's arguments).</summary>
public sealed record AdamOptions : OptimizerOptions, IBetasOptions
{
    /// <summary>Defaults as PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay.</summary>
    public AdamOptions() => LearningRate = 1e-3;

    /// <inheritdoc/>
    public (double Beta1, double Beta2) Betas { get; set; } = (0.9, 0.999);
    /// <summary>Term added to the denominator √v̂ + ε.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>L2 penalty added to the gradient (g ← g + λθ; for decoupled decay use <see cref="AdamW"/>).</summary>
    public double WeightDecay { get; set; }
    /// <summary>AMSGrad: divide by the running maximum of v.</summary>
    public bool Amsgrad { get; set; }
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, Eps, "epsilon value");
        CheckBetas(optimizer, Betas);
        NonNegative(optimizer, WeightDecay, "weight_decay value");
    }

    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("betas.0", Betas.Beta1), ("betas.1", Betas.Beta2), ("eps", Eps), ("weight_decay", WeightDecay),
        ("amsgrad", Amsgrad ? 1 : 0), ("maximize", Maximize ? 1 : 0)]);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Betas = (scalar("betas.0"), scalar("betas.1")); Eps = scalar("eps"); WeightDecay = scalar("weight_decay");
        Amsgrad = scalar("amsgrad") != 0; Maximize = scalar("maximize") != 0;
    }
}
