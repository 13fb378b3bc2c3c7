namespace Ember.Optim;

/// <summary>
/// The hyper-parameters every adaptive-moment optimizer has (<see cref="Adam"/>, <see cref="AdamW"/>, <see cref="Adamax"/>,
/// <see cref="NAdam"/>): the moment decays, ε, weight decay and maximize, with PyTorch's names in state dicts.
/// </summary>
public abstract record AdaptiveMomentOptions : OptimizerOptions, IBetasOptions
{
    private protected AdaptiveMomentOptions(double learningRate) => LearningRate = learningRate;

    /// <inheritdoc/>
    public (double Beta1, double Beta2) Betas { get; set; } = (0.9, 0.999);
    /// <summary>Term added to the denominator (to |g| in Adamax's infinity norm).</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>
    /// Weight decay λ: an L2 penalty added to the gradient (g ← g + λθ), or decoupled, θ ← θ·(1 − lr·λ) before the step
    /// (<see cref="AdamW"/>, NAdam with <see cref="NAdamOptions.DecoupledWeightDecay"/>).
    /// </summary>
    public double WeightDecay { get; set; }
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, Eps, "epsilon value");
        CheckBetas(optimizer, Betas);
        NonNegative(optimizer, WeightDecay, "weight_decay value");
    }

    /// <summary>The optimizer's own scalars, written between weight_decay and maximize (PyTorch's key order).</summary>
    private protected abstract IEnumerable<(string Name, double Value)> OwnScalars();

    internal sealed override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars()
        .Concat([("betas.0", Betas.Beta1), ("betas.1", Betas.Beta2), ("eps", Eps), ("weight_decay", WeightDecay)])
        .Concat(OwnScalars()).Append(("maximize", Maximize ? 1 : 0));

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Betas = (scalar("betas.0"), scalar("betas.1")); Eps = scalar("eps"); WeightDecay = scalar("weight_decay");
        Maximize = scalar("maximize") != 0;
    }
}
