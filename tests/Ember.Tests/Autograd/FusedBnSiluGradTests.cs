using Ember.Ops;
using Ember.Tests.Reference.Nn;

namespace Ember.Tests.Autograd;

/// <summary>
/// Torch.Grad with the fused BN+SiLU's intermediate (the tensor PyTorch's BN output is, between SiluBackward0 and
/// NativeBatchNormBackward0) among its inputs returns PyTorch's gradient for it, dL/dy·silu′(bn(x)), as a hook or
/// retain_grad sees it; before, it returned dL/dy, the fused op's internal hand-over.
/// </summary>
public class FusedBnSiluGradTests
{
    static Tensor Seq(int[] shape, double a, double b) => Ember.Tests.Ops.BatchNormOpsTests.Seq(shape, a, b);

    [Fact]
    public void Grad_of_the_fused_ops_bn_output_is_pytorchs_and_leaves_the_other_gradients_as_they_were()
    {
        // the inputs of A_hook_and_retain_grad_on_the_fused_ops_bn_output_see_pytorchs_gradient (Reference/Nn/batch_norm_silu_hook.oracle.csx)
        var x = (Seq([2, 3, 4, 5], 0.37, 0.1) * 2 + 0.5).Detach().RequiresGradInPlace();
        var w = (Seq([3], 0.53, 0.7) + 1).Detach().RequiresGradInPlace();
        var b = Seq([3], 1.1, 0.3).Detach().RequiresGradInPlace();
        var v = Seq([2, 3, 4, 5], 0.91, -0.4);
        var y = BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output;
        var bn = Assert.Single(y.Node!.Inputs);
        var grads = Torch.Grad([(y * v).Sum()], [bn, x, w, b]);
        TestUtil.Close(BatchNormSiluHookReference.BnOutputGrad, grads[0]!, rtol: 1e-12, atol: 1e-14);
        TestUtil.Close(BatchNormSiluHookReference.InputGrad, grads[1]!, rtol: 1e-10, atol: 1e-13);
        TestUtil.Close(BatchNormSiluHookReference.WeightGrad, grads[2]!, rtol: 1e-10, atol: 1e-13);
        TestUtil.Close(BatchNormSiluHookReference.BiasGrad, grads[3]!, rtol: 1e-10, atol: 1e-13);

        // not asked for, the intermediate is not observed: a plain grad takes the fused backward, with the same values
        var y2 = BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output;
        var plain = Torch.Grad([(y2 * v).Sum()], [x]);
        TestUtil.Close(BatchNormSiluHookReference.InputGrad, plain[0]!, rtol: 1e-10, atol: 1e-13);
    }
}
