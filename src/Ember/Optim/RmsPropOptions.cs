namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="RmsProp"/> (torch.optim.RMSprop's arguments).</summary>
public sealed record RmsPropOptions : OptimizerOptions, IMomentumOptions
{
    /// <summary>Defaults as PyTorch: lr 1e-2, alpha 0.99, eps 1e-8, no momentum, not centered.</summary>
    public RmsPropOptions() => LearningRate = 1e-2;

    /// <summary>Smoothing constant of the squared-gradient average.</summary>
    public double Alpha { get; set; } = 0.99;
    /// <summary>Term added to the denominator.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>L2 penalty added to the gradient.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Momentum factor (0 = none).</summary>
    public double Momentum { get; set; }
    /// <summary>Centered RMSprop: normalise by an estimate of the gradient's variance, v − ḡ².</summary>
    public bool Centered { get; set; }
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, Eps, "epsilon value");
        NonNegative(optimizer, Momentum, "momentum value");
        NonNegative(optimizer, WeightDecay, "weight_decay value");
        NonNegative(optimizer, Alpha, "alpha value");
    }

    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("alpha", Alpha), ("eps", Eps), ("weight_decay", WeightDecay), ("momentum", Momentum),
        ("centered", Centered ? 1 : 0), ("maximize", Maximize ? 1 : 0)]);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Alpha = scalar("alpha"); Eps = scalar("eps"); WeightDecay = scalar("weight_decay"); Momentum = scalar("momentum");
        Centered = scalar("centered") != 0; Maximize = scalar("maximize") != 0;
    }
}
