using Ember.Autograd;

namespace Ember.Distributed;

/// <summary>
/// Collectives that autograd can differentiate through (torch.distributed.nn.functional). Unlike the in-place
/// collectives of <see cref="Distributed"/>, these return a new tensor and record a backward, so a loss computed on
/// every rank from the combined value sends gradients back to every rank's input.
/// </summary>
public static class DistributedFunctional
{
    /// <summary>
    /// The sum of <paramref name="input"/> over all ranks, on every rank (all_reduce with SUM). With total loss
    /// L = Σ_r L_r and every L_r depending on the sum S, ∂L/∂x_r = Σ_r' ∂L_r'/∂S: the backward is the same all-reduce of
    /// the incoming gradients. Every rank must call it, and run its backward, in the same order.
    /// </summary>
    public static Tensor AllReduceSum(Tensor input)
    {
        var group = Distributed.Group("AllReduceSum");
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"AllReduceSum: expected a floating-point tensor, got {input.DType.TorchName()}");
        Tensor output;
        using (Torch.NoGrad()) output = input.Detach().Contiguous().Clone();
        group.AllReduce(CommBuffer.Of(output, "AllReduceSum"), ReduceOp.Sum, "AllReduceSum").Wait();
        return Recording.Unary(output, "AllReduceBackward", input, AllReduceSum);
    }
}
