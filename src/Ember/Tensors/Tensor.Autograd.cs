using Ember.Autograd;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Back-propagates from this tensor, accumulating into the <see cref="Grad"/> of leaves (torch.Tensor.backward).
    /// A non-scalar output needs an explicit <paramref name="gradient"/>. Without <paramref name="retainGraph"/> the graph is freed.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
        => Engine.Backward(this, gradient, retainGraph || createGraph, createGraph);
}
