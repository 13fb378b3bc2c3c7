namespace Ember.Optim;

/// <summary>Hyper-parameters of <see cref="Sgd"/> (torch.optim.SGD's arguments).</summary>
public sealed record SgdOptions : OptimizerOptions, IMomentumOptions
{
    /// <summary>Defaults as PyTorch: lr 1e-3, no momentum, no weight decay.</summary>
    public SgdOptions() => LearningRate = 1e-3;

    /// <summary>Momentum factor μ (0 = plain SGD).</summary>
    public double Momentum { get; set; }
    /// <summary>Dampening τ of the momentum: b ← μ·b + (1 − τ)·g.</summary>
    public double Dampening { get; set; }
    /// <summary>L2 penalty λ added to the gradient: g ← g + λ·θ.</summary>
    public double WeightDecay { get; set; }
    /// <summary>Nesterov momentum: step along g + μ·b instead of b.</summary>
    public bool Nesterov { get; set; }
    /// <summary>Maximize the objective (negates the gradient first).</summary>
    public bool Maximize { get; set; }
    /// <summary>
    /// How the momentum is written: PyTorch's (default; the buffer sums gradients and the learning rate scales the step) or
    /// the velocity form of the notes and Sutskever et al. (the learning rate scales each gradient as it enters the buffer).
    /// The two give the same trajectory while the learning rate is constant and differ once a schedule changes it.
    /// </summary>
    public SgdMomentumForm MomentumForm { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        NonNegative(optimizer, Momentum, "momentum value");
        NonNegative(optimizer, WeightDecay, "weight_decay value");
        if (!Enum.IsDefined(MomentumForm))
            throw new ArgumentException($"{optimizer}: unknown momentum form {(int)MomentumForm} (expected PyTorch or Velocity)");
        if (Nesterov && (Momentum <= 0 || Dampening != 0))
            throw new ArgumentException($"{optimizer}: Nesterov momentum requires a momentum and zero dampening (got momentum {Format(Momentum)}, dampening {Format(Dampening)})");
    }

    // The velocity form's buffer holds −lr·b, not b, so it is recorded, but only when used: a PyTorch-form state dict keeps
    // exactly PyTorch's keys.
    internal override IEnumerable<(string Name, double Value)> Scalars() => base.Scalars().Concat([
        ("momentum", Momentum), ("dampening", Dampening), ("weight_decay", WeightDecay),
        ("nesterov", Nesterov ? 1 : 0), ("maximize", Maximize ? 1 : 0)])
        .Concat(MomentumForm == SgdMomentumForm.Velocity ? [("momentum_form_velocity", 1.0)] : []);

    internal override void Load(Func<string, double> scalar)
    {
        base.Load(scalar);
        Momentum = scalar("momentum"); Dampening = scalar("dampening"); WeightDecay = scalar("weight_decay");
        Nesterov = scalar("nesterov") != 0; Maximize = scalar("maximize") != 0;
    }

    internal override void Load(Func<string, double> scalar, Func<string, bool> has)
    {
        Load(scalar);
        MomentumForm = has("momentum_form_velocity") && scalar("momentum_form_velocity") != 0 ? SgdMomentumForm.Velocity : SgdMomentumForm.PyTorch;
    }
}
