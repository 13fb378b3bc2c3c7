namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="Adagrad"/> (torch.optim.Adagrad's arguments).</summary>
public sealed record AdagradOptions : OptimizerOptions
{
    /// <summary>Defaults as PyTorch: lr 1e-2, eps 1e-10, no lr decay, no weight decay, accumulator starting at 0.</summary>
    public AdagradOptions() => LearningRate = 1e-2;

    /// <summary>Learning-rate decay: the step t uses lr / (1 + (t − 1)·lrDecay).</summary>
    public double LrDecay { get; set; }
    /// <summary>L2 penalty added to the gradient.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Starting value of the sum of squared gradients.</summary>
    public double InitialAccumulatorValue { get; set; }
    /// <summary>Term added to the denominator √sum + ε.</summary>
    public double Eps { get; set; } = 1e-10;
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, LrDecay, "lr_decay value");
        NonNegative(optimizer, WeightDecay, "weight_decay value");
        NonNegative(optimizer, InitialAccumulatorValue, "initial_accumulator_value value");
        NonNegative(optimizer, Eps, "epsilon value");
    }

    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("lr_decay", LrDecay), ("weight_decay", WeightDecay), ("initial_accumulator_value", InitialAccumulatorValue),
        ("eps", Eps), ("maximize", Maximize ? 1 : 0)]);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        LrDecay = scalar("lr_decay"); WeightDecay = scalar("weight_decay");
        InitialAccumulatorValue = scalar("initial_accumulator_value"); Eps = scalar("eps"); Maximize = scalar("maximize") != 0;
    }
}
