using Ember.Autograd;

namespace Ember.Nn;

/// <summary>
/// One forward call's full backward hooks (PyTorch's torch.utils.hooks.BackwardHook): the module's input and output are
/// wrapped in identity nodes. The output's node sees grad_output first (and runs the backward pre-hooks, which may replace
/// it); the input's node then sees grad_input and runs the backward hooks, which may replace it.
/// </summary>
internal sealed class BackwardHook(Module module,
    Func<Module, Tensor?[], Tensor?[], Tensor?[]?>[] hooks, Func<Module, Tensor?[], Tensor?[]?>[] preHooks)
{
    const string NodeName = "BackwardHookFunctionBackward";
    Tensor?[] gradOutputs = [null];
    bool inputRecorded;

    public Tensor SetupInput(Tensor input)
    {
        if (!input.RequiresGrad) return input;
        inputRecorded = true;
        var alias = input.Detach();
        alias.SetGradFn(new Node(NodeName, [input], (g, _) => [RunHooks(g)]) { RunsUserCode = true });
        return alias;
    }

    public Tensor SetupOutput(Tensor output)
    {
        if (!output.RequiresGrad) return output;
        var alias = output.Detach();
        alias.SetGradFn(new Node(NodeName, [output], (g, _) =>
        {
            gradOutputs = [g];
            foreach (var hook in preHooks)
                if (hook(module, gradOutputs) is { } replaced) gradOutputs = Checked(replaced, gradOutputs, "backward pre-hook", "grad_output");
            // With no input that requires grad, PyTorch calls the hooks here with grad_input all None.
            if (!inputRecorded) RunHooks(null);
            return [gradOutputs[0]];
        }) { RunsUserCode = true });
        return alias;
    }

    Tensor? RunHooks(Tensor? gradInput)
    {
        Tensor?[] gradInputs = [gradInput];
        foreach (var hook in hooks)
            if (hook(module, gradInputs, gradOutputs) is { } replaced) gradInputs = Checked(replaced, gradInputs, "backward hook", "grad_input");
        return gradInputs[0];
    }

    Tensor?[] Checked(Tensor?[] replaced, Tensor?[] original, string kind, string what)
    {
        if (replaced.Length != original.Length)
            throw new InvalidOperationException($"{module.GetType().Name}: a {kind} returned {replaced.Length} {what} values, expected {original.Length}");
        for (int i = 0; i < replaced.Length; i++)
            if (replaced[i] is { } r && original[i] is { } o && r.Shape != o.Shape)
                throw new InvalidOperationException($"{module.GetType().Name}: a {kind} returned {what}[{i}] of shape {r.Shape}, expected {o.Shape}");
        return replaced;
    }
}
