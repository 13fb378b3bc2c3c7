namespace Ember.Autograd;

/// <summary>Helpers that ops use to attach their backward to a result.</summary>
internal static class Recording
{
    public static bool IsOn(Tensor a) => GradMode.IsEnabled && a.RequiresGrad;
    public static bool IsOn(Tensor a, Tensor b) => GradMode.IsEnabled && (a.RequiresGrad || b.RequiresGrad);
    public static bool IsOn(Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>Attaches a one-input backward <paramref name="grad"/> to <paramref name="y"/> when <paramref name="x"/> is recorded.</summary>
    public static Tensor Unary(Tensor y, string name, Tensor x, Func<Tensor, Tensor> grad, params Tensor[] saved)
    {
        if (IsOn(x)) y.SetGradFn(new Node(name, [x], (g, _) => [grad(g)]).Save(saved));
        return y;
    }

    /// <summary>Attaches a two-input backward; each gradient is computed only when its input needs one.</summary>
    public static Tensor Binary(Tensor y, string name, Tensor a, Tensor b, Func<Tensor, Tensor> gradA, Func<Tensor, Tensor> gradB, params Tensor[] saved)
    {
        if (IsOn(a, b))
            y.SetGradFn(new Node(name, [a, b], (g, node) => [node.NeedsInputGrad(0) ? gradA(g) : null, node.NeedsInputGrad(1) ? gradB(g) : null]).Save(saved));
        return y;
    }

    /// <summary>
    /// Names the node that produced a composite's result after the single node PyTorch records for the same op (a mean
    /// built as sum/n is "MeanBackward0", not "DivBackward0"), so Tensor.GradFn reads as PyTorch's grad_fn. Leaves the
    /// node alone when the result is one of <paramref name="inputs"/> or shares an input's node.
    /// </summary>
    public static Tensor Named(Tensor y, string name, params Tensor[] inputs)
    {
        if (y.gradFn is not { } node) return y;
        foreach (var x in inputs) if (ReferenceEquals(x.gradFn, node)) return y;
        node.Name = name;
        return y;
    }

    /// <summary>Attaches a backward over any number of inputs.</summary>
    public static Tensor Many(Tensor y, string name, Tensor[] inputs, BackwardFunction backward, params Tensor[] saved)
    {
        if (IsOn(inputs)) y.SetGradFn(new Node(name, inputs, backward).Save(saved));
        return y;
    }
}
