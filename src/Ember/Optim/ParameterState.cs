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

    internal static void Put(OptimizerStateDict dict, string key, Tensor? tensor)
    {
        if (tensor != null) dict.Tensors[key] = tensor.Detach().Clone();
    }

    internal static Tensor Take(OptimizerStateDict dict, string key, Tensor parameter)
    {
        var t = dict.Tensor(key);
        if (!t.Shape.Equals(parameter.Shape))
            throw new ArgumentException($"Optimizer.LoadStateDict: state '{key}' has shape {t.Shape}, expected the parameter's shape {parameter.Shape}");
        return t.Detach().To(parameter.DType).Contiguous().Clone();
    }

    internal static Tensor? TakeOptional(OptimizerStateDict dict, string key, Tensor parameter)
        => dict.Tensors.ContainsKey(key) ? Take(dict, key, parameter) : null;
}
