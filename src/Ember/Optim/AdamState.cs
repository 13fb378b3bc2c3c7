namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="Adam"/> and <see cref="AdamW"/>.</summary>
public sealed class AdamState : ParameterState
{
    /// <summary>Number of updates taken (PyTorch's <c>step</c>).</summary>
    public long Step { get; internal set; }
    /// <summary>Running average m of the gradient.</summary>
    public Tensor ExpAvg { get; internal set; } = null!;
    /// <summary>Running average v of the squared gradient.</summary>
    public Tensor ExpAvgSq { get; internal set; } = null!;
    /// <summary>Running maximum of v (AMSGrad only).</summary>
    public Tensor? MaxExpAvgSq { get; internal set; }

    internal static AdamState Create(Tensor parameter, bool amsgrad) => new()
    {
        ExpAvg = Torch.ZerosLike(parameter), ExpAvgSq = Torch.ZerosLike(parameter),
        MaxExpAvgSq = amsgrad ? Torch.ZerosLike(parameter) : null,
    };

    internal override void Convert(DType dtype) { ExpAvg = Converted(ExpAvg, dtype)!; ExpAvgSq = Converted(ExpAvgSq, dtype)!; MaxExpAvgSq = Converted(MaxExpAvgSq, dtype); }

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "step"] = Step;
        Put(dict, prefix + "exp_avg", ExpAvg);
        Put(dict, prefix + "exp_avg_sq", ExpAvgSq);
        Put(dict, prefix + "max_exp_avg_sq", MaxExpAvgSq);
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        Step = TakeStep(dict, prefix + "step");
        ExpAvg = Take(dict, prefix + "exp_avg", parameter);
        ExpAvgSq = Take(dict, prefix + "exp_avg_sq", parameter);
        MaxExpAvgSq = TakeOptional(dict, prefix + "max_exp_avg_sq", parameter) ?? MaxExpAvgSq;
    }
}
