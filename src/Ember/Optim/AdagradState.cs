namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="Adagrad"/>.</summary>
public sealed class AdagradState : ParameterState
{
    /// <summary>Number of updates taken.</summary>
    public long Step { get; internal set; }
    /// <summary>Sum of squared gradients (PyTorch's <c>sum</c>).</summary>
    public Tensor Sum { get; internal set; } = null!;

    internal override void Convert(DType dtype) { Sum = Converted(Sum, dtype)!; }

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "step"] = Step;
        Put(dict, prefix + "sum", Sum);
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        Step = TakeStep(dict, prefix + "step");
        Sum = Take(dict, prefix + "sum", parameter);
    }
}
