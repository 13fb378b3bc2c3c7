namespace Ember.Optim;

/// <summary>
/// An optimizer's state as plain data that a checkpoint writer can serialize: tensors by key and scalars by key.
/// Keys follow PyTorch's <c>state_dict()</c> layout flattened with dots: <c>state.3.exp_avg</c> (tensor),
/// <c>state.3.step</c> (scalar), <c>param_groups.0.lr</c>, <c>param_groups.0.betas.0</c> (scalars) and
/// <c>param_groups.0.params</c> (an int64 tensor of parameter indices, numbered across groups in order).
/// </summary>
public sealed class OptimizerStateDict
{
    /// <summary>Tensors by key (state buffers and the groups' parameter indices). Owned copies.</summary>
    public Dictionary<string, Tensor> Tensors { get; } = new();

    /// <summary>Scalars by key (step counts and hyper-parameters; booleans as 0/1).</summary>
    public Dictionary<string, double> Scalars { get; } = new();

    internal double Scalar(string key) => Scalars.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"Optimizer.LoadStateDict: missing scalar '{key}'");

    internal Tensor Tensor(string key) => Tensors.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"Optimizer.LoadStateDict: missing tensor '{key}'");
}
