namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="NAdam"/>.</summary>
public sealed class NAdamState : ParameterState
{
    /// <summary>Number of updates taken.</summary>
    public long Step { get; internal set; }
    /// <summary>The product μ₁·…·μₜ. PyTorch keeps it in a float32 tensor, so it is rounded to float32 after each product.</summary>
    public float MuProduct { get; internal set; } = 1;
    /// <summary>Running average m of the gradient.</summary>
    public Tensor ExpAvg { get; internal set; } = null!;
    /// <summary>Running average v of the squared gradient.</summary>
    public Tensor ExpAvgSq { get; internal set; } = null!;

    internal override void Convert(DType dtype) { ExpAvg = Converted(ExpAvg, dtype)!; ExpAvgSq = Converted(ExpAvgSq, dtype)!; }

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "step"] = Step;
        dict.Scalars[prefix + "mu_product"] = MuProduct;
        Put(dict, prefix + "exp_avg", ExpAvg);
        Put(dict, prefix + "exp_avg_sq", ExpAvgSq);
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        Step = TakeStep(dict, prefix + "step");
        MuProduct = (float)dict.Scalar(prefix + "mu_product");
        ExpAvg = Take(dict, prefix + "exp_avg", parameter);
        ExpAvgSq = Take(dict, prefix + "exp_avg_sq", parameter);
    }
}
