namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="Adamax"/>.</summary>
public sealed class AdamaxState : ParameterState
{
    /// <summary>Number of updates taken.</summary>
    public long Step { get; internal set; }
    /// <summary>Running average m of the gradient.</summary>
    public Tensor ExpAvg { get; internal set; } = null!;
    /// <summary>Exponentially weighted infinity norm u.</summary>
    public Tensor ExpInf { get; internal set; } = null!;

    internal override void Convert(DType dtype) { ExpAvg = Converted(ExpAvg, dtype)!; ExpInf = Converted(ExpInf, dtype)!; }

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "step"] = Step;
        Put(dict, prefix + "exp_avg", ExpAvg);
        Put(dict, prefix + "exp_inf", ExpInf);
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        Step = TakeStep(dict, prefix + "step");
        ExpAvg = Take(dict, prefix + "exp_avg", parameter);
        ExpInf = Take(dict, prefix + "exp_inf", parameter);
    }
}
