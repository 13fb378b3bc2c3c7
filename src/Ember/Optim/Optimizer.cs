namespace Ember.Optim;

/// <summary>
/// Base of all optimizers (torch.optim.Optimizer): parameter groups, gradient zeroing, the closure form of
/// <see cref="Step()"/> and state dicts. The typed bookkeeping lives in <see cref="Optimizer{TOptions, TState}"/>;
/// each optimizer adds only its update rule.
/// </summary>
public abstract class Optimizer
{
    /// <summary>The optimizer's name in messages ("SGD", "Adam").</summary>
    public abstract string Name { get; }

    /// <summary>The parameter groups, as schedulers see them.</summary>
    public abstract IReadOnlyList<IParamGroup> ParamGroups { get; }

    /// <summary>The defaults that new groups are filled from.</summary>
    public abstract OptimizerOptions Defaults { get; }

    /// <summary>Performs one update of every parameter that has a gradient (parameters whose Grad is null are skipped).</summary>
    public abstract void Step();

    /// <summary>
    /// Re-evaluates the model with <paramref name="closure"/> (under grad mode, so it may call Backward), then steps;
    /// returns the closure's loss (PyTorch's <c>step(closure)</c>).
    /// </summary>
    public virtual Tensor Step(Func<Tensor> closure)
    {
        Tensor loss;
        using (Torch.EnableGrad()) loss = closure();
        Step();
        return loss;
    }

    /// <summary>Clears the gradients: sets them to null (the default, as PyTorch) or fills them with zeros.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var group in ParamGroups)
            foreach (var p in group.Parameters)
            {
                if (p.Grad == null) continue;
                if (setToNone) { p.Grad = null; continue; }
                if (p.Grad.GradFn != null) p.Grad = p.Grad.Detach();
                using (Torch.NoGrad()) p.Grad.ZeroInPlace();
            }
    }

    /// <summary>The state (per-parameter buffers and step counts) and the groups' hyper-parameters, as plain data.</summary>
    public abstract OptimizerStateDict StateDict();

    /// <summary>Restores what <see cref="StateDict"/> saved; the groups must have the same sizes, in the same order.</summary>
    public abstract void LoadStateDict(OptimizerStateDict stateDict);
}
