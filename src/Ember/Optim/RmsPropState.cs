namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="RmsProp"/>.</summary>
public sealed class RmsPropState : ParameterState
{
    /// <summary>Number of updates taken.</summary>
    public long Step { get; internal set; }
    /// <summary>Running average of the squared gradient.</summary>
    public Tensor SquareAvg { get; internal set; } = null!;
    /// <summary>Momentum buffer (momentum &gt; 0 only).</summary>
    public Tensor? MomentumBuffer { get; internal set; }
    /// <summary>Running average of the gradient (centered only).</summary>
    public Tensor? GradAvg { get; internal set; }

    internal override void Convert(DType dtype) { SquareAvg = Converted(SquareAvg, dtype)!; MomentumBuffer = Converted(MomentumBuffer, dtype); GradAvg = Converted(GradAvg, dtype); }

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "step"] = Step;
        Put(dict, prefix + "square_avg", SquareAvg);
        Put(dict, prefix + "momentum_buffer", MomentumBuffer);
        Put(dict, prefix + "grad_avg", GradAvg);
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        Step = TakeStep(dict, prefix + "step");
        SquareAvg = Take(dict, prefix + "square_avg", parameter);
        MomentumBuffer = TakeOptional(dict, prefix + "momentum_buffer", parameter) ?? MomentumBuffer;
        GradAvg = TakeOptional(dict, prefix + "grad_avg", parameter) ?? GradAvg;
    }
}
