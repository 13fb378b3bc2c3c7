using Ember.Autograd;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Back-propagates from this tensor, accumulating into the <see cref="Grad"/> of leaves (torch.Tensor.backward).
    /// A non-scalar output needs an explicit <paramref name="gradient"/>. Without <paramref name="retainGraph"/> the graph is freed.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
    {
        if (disposal != Live) ThrowIfDisposed();
        Engine.Backward(this, gradient, retainGraph || createGraph, createGraph);
    }

    // Hooks run by the engine right after this leaf's Grad is accumulated (see RegisterPostAccumulateGradHook).
    internal List<Action<Tensor>>? postAccumulateGradHooks;

    /// <summary>
    /// Registers <paramref name="hook"/> to run during backward right after this leaf's <see cref="Grad"/> has received
    /// its gradient for that backward pass (torch.Tensor.register_post_accumulate_grad_hook). At that point no later node
    /// of the pass will add to it, so the gradient may be read (for example to start its all-reduce while the rest of
    /// backward runs). Dispose the result to remove the hook.
    /// </summary>
    public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        if (!IsLeaf)
            throw new InvalidOperationException($"register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on non-leaf tensors (this one was produced by {GradFn})");
        if (!RequiresGrad)
            throw new InvalidOperationException("register_post_accumulate_grad_hook: cannot register a hook on a tensor that doesn't require gradient");
        (postAccumulateGradHooks ??= new()).Add(hook);
        return new HookRemoval(this, hook);
    }

    // Hooks on this tensor's gradient, run in registration order when backward has computed it (see RegisterHook).
    internal List<Func<Tensor, Tensor?>>? gradHooks;

    /// <summary>
    /// Registers <paramref name="hook"/> to run each time backward has computed the gradient of this tensor
    /// (torch.Tensor.register_hook). It receives the gradient and may return a replacement (same shape), which is what
    /// flows on to this tensor's inputs, into <see cref="Grad"/> of a leaf, and to the next hook; null keeps the gradient.
    /// Hooks run in the order they were registered, before a leaf accumulates its gradient. Dispose the result to remove it.
    /// </summary>
    public IDisposable RegisterHook(Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!RequiresGrad)
            throw new InvalidOperationException("register_hook: cannot register a hook on a tensor that doesn't require gradient");
        (gradHooks ??= new()).Add(hook);
        return new GradHookRemoval(this, hook);
    }

    /// <summary>Whether backward shows this tensor's gradient to anyone: a hook on it, <see cref="RetainGrad"/>, or a grad call that returns it.</summary>
    internal bool GradIsObserved => gradHooks is { Count: > 0 } || retainsGrad || Engine.Returns(this);

    sealed class GradHookRemoval(Tensor tensor, Func<Tensor, Tensor?> hook) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            done = true;
            tensor.gradHooks?.Remove(hook);
        }
    }

    sealed class HookRemoval(Tensor tensor, Action<Tensor> hook) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            done = true;
            tensor.postAccumulateGradHooks?.Remove(hook);
        }
    }
}
