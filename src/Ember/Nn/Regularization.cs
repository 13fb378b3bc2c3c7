namespace Ember.Nn;

/// <summary>
/// Penalties on a parameter set, to be added to a loss: λ·Regularization.L2(model.Parameters()). Weight decay proper
/// (decoupled or not) lives in the optimizers; these are the explicit-loss form.
/// </summary>
public static class Regularization
{
    /// <summary>Σ |p| over every element of every parameter (L1, encourages sparsity).</summary>
    public static Tensor L1(IEnumerable<Tensor> parameters) => Total(parameters, p => p.Abs().Sum());

    /// <summary>Σ p² over every element of every parameter (squared L2 norm; its gradient is 2p).</summary>
    public static Tensor L2(IEnumerable<Tensor> parameters) => Total(parameters, p => p.Square().Sum());

    static Tensor Total(IEnumerable<Tensor> parameters, Func<Tensor, Tensor> term)
    {
        Tensor? total = null;
        foreach (var p in parameters)
        {
            var t = term(p);
            total = total is null ? t : total + t;
        }
        return total ?? Torch.Scalar(0.0);
    }
}
