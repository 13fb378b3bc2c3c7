namespace Ember.Optim;

/// <summary>
/// The hyper-parameters <see cref="Adam"/> and <see cref="AdamW"/> share (torch.optim.Adam's and AdamW's arguments); they
/// differ only in how <see cref="WeightDecay"/> acts and in its default.
/// </summary>
public abstract record AdamFamilyOptions : OptimizerOptions, IBetasOptions
{
    /// <summary>Learning rate 1e-3, as PyTorch.</summary>
    private protected AdamFamilyOptions() => LearningRate = 1e-3;

    /// <inheritdoc/>
    public (double Beta1, double Beta2) Betas { get; set; } = (0.9, 0.999);
    /// <summary>Term added to the denominator √v̂ + ε.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>
    /// Weight decay λ: Adam adds an L2 penalty to the gradient (g ← g + λθ); AdamW decouples it, θ ← θ·(1 − lr·λ)
    /// before the Adam step.
    /// </summary>
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
