namespace Ember.Autograd;

/// <summary>
/// A user-defined differentiable operation (torch.autograd.Function): override <see cref="Forward"/>, which runs without
/// recording, and <see cref="Backward"/>, which returns one gradient per input (null where an input needs none), then call
/// <see cref="Apply"/>. Options that are not tensors go to the subclass's constructor or into the context.
/// Backward runs with recording on when the caller asked for <c>createGraph</c>, so a backward written with Ember's ops
/// is itself differentiable. The graph node is named after the class, as PyTorch does: <c>MyFn</c> → "MyFnBackward".
/// <code>
/// sealed class RoundSte : Function   // straight-through estimator
/// {
///     public override Tensor Forward(FunctionContext ctx, Tensor[] inputs) =&gt; inputs[0].Round();
///     public override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) =&gt; [gradOutput];
/// }
/// var y = new RoundSte().Apply(x);
/// </code>
/// </summary>
public abstract class Function
{
    /// <summary>Computes the output from the inputs; recording is off here. Save what backward needs in <paramref name="ctx"/>.</summary>
    public abstract Tensor Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>Gradients of the inputs from the gradient of the output: exactly one entry per input, null for none.</summary>
    public abstract Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput);

    /// <summary>The graph node's name (Tensor.GradFn); PyTorch's is the class name followed by "Backward".</summary>
    protected virtual string NodeName => GetType().Name + "Backward";

    /// <summary>Runs <see cref="Forward"/> and, when an input requires grad and grad mode is on, records the node.</summary>
    public Tensor Apply(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"{GetType().Name}.Apply: input {i} is null");
        bool recording = Recording.IsOn(inputs);
        var needs = new bool[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) needs[i] = recording && inputs[i].RequiresGrad;
        var ctx = new FunctionContext(needs);
        Tensor output;
        using (Torch.NoGrad()) output = Forward(ctx, inputs);
        if (output is null) throw new InvalidOperationException($"{GetType().Name}.Forward returned null; it must return a tensor");
        if (!recording) return output;
        // The node must sit on a tensor of its own: an input returned unchanged (or any tensor already in a graph) gets an alias.
        if (output.RequiresGrad || Array.Exists(inputs, x => ReferenceEquals(x, output)))
        {
            bool marked = ctx.IsNonDifferentiable(output);
            output = output.Detach();
            if (marked) ctx.NonDifferentiable.Add(output);
        }
        if (ctx.IsNonDifferentiable(output)) return output;
        if (!output.DType.IsFloatingPoint())
            throw new InvalidOperationException($"{GetType().Name}: the output has dtype {output.DType.TorchName()}, which cannot require grad; mark it with ctx.MarkNonDifferentiable");
        string name = NodeName;
        var node = new Node(name, inputs, (g, _) => RunBackward(ctx, g, inputs, name)) { RunsUserCode = true };
        node.Save(ctx.Saved);
        output.SetGradFn(node);
        return output;
    }

    Tensor?[] RunBackward(FunctionContext ctx, Tensor gradOutput, Tensor[] inputs, string name)
    {
        ctx.InBackward = true;
        var grads = Backward(ctx, gradOutput)
            ?? throw new InvalidOperationException($"{name}: backward returned null; return one gradient (or null) per input");
        if (grads.Length != inputs.Length)
            throw new InvalidOperationException($"{name}: function backward returned an incorrect number of gradients (expected {inputs.Length}, got {grads.Length})");
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is not { } g || !inputs[i].RequiresGrad) { grads[i] = null; continue; }
            if (g.Shape != inputs[i].Shape)
                throw new InvalidOperationException($"{name}: function backward returned a gradient of shape {g.Shape} for input {i} of shape {inputs[i].Shape}");
        }
        return grads;
    }
}
