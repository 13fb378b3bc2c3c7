namespace Ember.Autograd;

/// <summary>
/// The <c>ctx</c> of a custom <see cref="Function"/>: what forward leaves for backward (tensors through
/// <see cref="SaveForBackward"/>, other values through the indexer), which inputs need a gradient, and which outputs are
/// not differentiable. One context per <see cref="Function.Apply"/> call.
/// </summary>
public sealed class FunctionContext
{
    readonly Dictionary<string, object?> values = new();
    Tensor[] saved = [];
    internal readonly List<Tensor> NonDifferentiable = new();
    internal bool InBackward;

    internal FunctionContext(bool[] needsInputGrad) => NeedsInputGrad = needsInputGrad;

    /// <summary>Per input, whether backward must compute its gradient (ctx.needs_input_grad); valid in forward and backward.</summary>
    public IReadOnlyList<bool> NeedsInputGrad { get; }

    /// <summary>
    /// Keeps tensors for backward (ctx.save_for_backward). Call once in forward; an in-place change to any of them before
    /// backward makes backward throw, as PyTorch's version counter check does.
    /// </summary>
    public void SaveForBackward(params Tensor[] tensors)
    {
        if (InBackward) throw new InvalidOperationException("save_for_backward: can only be called from forward");
        saved = (Tensor[])tensors.Clone();
    }

    /// <summary>The tensors given to <see cref="SaveForBackward"/> (ctx.saved_tensors).</summary>
    public IReadOnlyList<Tensor> SavedTensors => saved;

    internal Tensor[] Saved => saved;

    /// <summary>Any other value forward wants backward to see (PyTorch's <c>ctx.name = value</c>).</summary>
    public object? this[string name]
    {
        get => values.TryGetValue(name, out var v) ? v
            : throw new KeyNotFoundException($"FunctionContext: no value named '{name}' was stored in forward (stored: {string.Join(", ", values.Keys)})");
        set => values[name] = value;
    }

    /// <summary>The value stored under <paramref name="name"/>, as <typeparamref name="T"/>.</summary>
    public T Get<T>(string name) => this[name] is T v ? v
        : throw new InvalidCastException($"FunctionContext: value '{name}' is {this[name]?.GetType().Name ?? "null"}, not {typeof(T).Name}");

    /// <summary>
    /// Marks outputs that are not differentiable (ctx.mark_non_differentiable): they come back with
    /// <see cref="Tensor.RequiresGrad"/> false, and backward receives a zero gradient for them.
    /// </summary>
    public void MarkNonDifferentiable(params Tensor[] outputs)
    {
        if (InBackward) throw new InvalidOperationException("mark_non_differentiable: can only be called from forward");
        NonDifferentiable.AddRange(outputs);
    }

    internal bool IsNonDifferentiable(Tensor output)
    {
        foreach (var t in NonDifferentiable) if (ReferenceEquals(t, output)) return true;
        return false;
    }
}
