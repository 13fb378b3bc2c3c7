namespace Ember.Optim;

/// <summary>
/// The per-parameter state of an optimizer (PyTorch's <c>optimizer.state[p]</c>), typed per optimizer
/// (<see cref="SgdState"/>, <see cref="AdamState"/>…). Saving copies the tensors so a checkpoint never aliases live state.
/// </summary>
public abstract class ParameterState
{
    /// <summary>Writes this state under <paramref name="prefix"/> (e.g. <c>state.3.</c>).</summary>
    internal abstract void Save(OptimizerStateDict dict, string prefix);

    /// <summary>Reads this state back from <paramref name="prefix"/>; tensors are copied and cast to the parameter's dtype.</summary>
    internal abstract void Load(OptimizerStateDict dict, string prefix, Tensor parameter);

    /// <summary>
    /// Converts every state tensor to <paramref name="dtype"/>: the update of a half-precision parameter widens its state to
    /// float32, runs the rule, and rounds the state back to the parameter's dtype (where PyTorch keeps it).
    /// </summary>
    internal abstract void Convert(DType dtype);

    internal static Tensor? Converted(Tensor? tensor, DType dtype) => tensor is null || tensor.DType == dtype ? tensor : tensor.To(dtype);

    internal static void Put(OptimizerStateDict dict, string key, Tensor? tensor)
    {
        if (tensor != null) dict.Tensors[key] = tensor.Detach().Clone();
    }

    internal static Tensor Take(OptimizerStateDict dict, string key, Tensor parameter)
    {
        var t = dict.Tensor(key);
        if (!t.Shape.Equals(parameter.Shape))
            throw new ArgumentException($"Optimizer.LoadStateDict: state '{key}' has shape {t.Shape}, expected the parameter's shape {parameter.Shape}");
        // state is saved in the parameter's dtype; another dtype (a BOOL or integer buffer, a half-precision copy) is
        // a damaged or foreign state dict, not something to cast silently
        if (t.DType != parameter.DType)
            throw new ArgumentException($"Optimizer.LoadStateDict: state '{key}' has dtype {t.DType}, expected the parameter's dtype {parameter.DType}");
        return t.Detach().To(parameter.DType).Contiguous().Clone();
    }

    /// <summary>A step count: a whole number in [0, 2^53] (a double holds every integer up to there exactly).</summary>
    internal static long TakeStep(OptimizerStateDict dict, string key)
    {
        double step = dict.Scalar(key);
        if (!(step >= 0 && step <= 9007199254740992d) || step != Math.Floor(step))
            throw new ArgumentException($"Optimizer.LoadStateDict: state '{key}' is {step}, expected a whole number of steps ≥ 0");
        return (long)step;
    }

    internal static Tensor? TakeOptional(OptimizerStateDict dict, string key, Tensor parameter)
        => dict.Tensors.ContainsKey(key) ? Take(dict, key, parameter) : null;
}
