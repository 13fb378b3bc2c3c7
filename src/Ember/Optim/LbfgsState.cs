namespace Ember.Optim;

/// <summary>
/// L-BFGS's counters (PyTorch's func_evals and n_iter), read through <see cref="Lbfgs.Counters"/>. The curvature history
/// lives in the optimizer and is not part of the state dict, which holds the options only.
/// </summary>
public sealed class LbfgsState : ParameterState
{
    /// <summary>Function evaluations so far (func_evals).</summary>
    public long FuncEvals { get; internal set; }

    /// <summary>Iterations so far (n_iter).</summary>
    public long Iterations { get; internal set; }

    internal override void Convert(DType dtype) { }     // its history lives in float64 arrays

    internal override void Save(OptimizerStateDict dict, string prefix)
    {
        dict.Scalars[prefix + "func_evals"] = FuncEvals;
        dict.Scalars[prefix + "n_iter"] = Iterations;
    }

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
    {
        FuncEvals = TakeStep(dict, prefix + "func_evals");
        Iterations = 0;   // the history is not saved, so the next step starts like a first one
    }
}
