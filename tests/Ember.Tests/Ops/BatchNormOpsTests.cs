using Ember.Ops;
using Ember.Tests.Reference.Nn;

namespace Ember.Tests.Ops;

public class BatchNormOpsTests
{
    [Fact]
    public void Fused_training_batch_norm_passes_gradcheck_and_double_backward()
    {
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 1, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 2);
        var b = TestUtil.Leaf([4], seed: 3);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-5).Output, [x, w, b]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-5).Output.Square(), [x, w, b], atol: 1e-4);
    }

    [Fact]
    public void Fused_training_batch_norm_with_silu_passes_gradcheck_and_double_backward()
    {
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 5, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 6);
        var b = TestUtil.Leaf([4], seed: 7);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu: true).Output, [x, w, b]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu: true).Output.Square(), [x, w, b], atol: 1e-4);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], null, null, 1e-3, silu: true).Output, [x]);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Fused_silu_op_equals_batch_norm_then_silu_bit_for_bit(DType dtype)
    {
        // values and all three gradients, through the graph (the fused op is one node, the pair two)
        var x0 = (Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(8)) * 3 + 1).To(dtype);
        var w0 = Torch.Randn([3], DType.Float64, new Generator(9)).To(dtype);
        var b0 = Torch.Randn([3], DType.Float64, new Generator(10)).To(dtype);
        var g = Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(11)).To(dtype);
        Tensor[] Run(bool fused)
        {
            var x = x0.Clone().RequiresGradInPlace(); var w = w0.Clone().RequiresGradInPlace(); var b = b0.Clone().RequiresGradInPlace();
            var y = fused ? BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output : Ember.Nn.Functional.F.Silu(BatchNormOps.Training(x, w, b, 1e-3).Output);
            y.Backward(g);
            return [y.Detach(), x.Grad!, w.Grad!, b.Grad!];
        }
        var pair = Run(false);
        var one = Run(true);
        string[] names = ["output", "dx", "dweight", "dbias"];
        for (int i = 0; i < 4; i++)
            Assert.True(pair[i].To(DType.Float64).ToArray<double>().SequenceEqual(one[i].To(DType.Float64).ToArray<double>()), $"{dtype} {names[i]} differs");
    }

    /// <summary>
    /// Concatenated along channels (YOLOv5's C3), the op gets its gradient as a channel slice of the concatenation's and
    /// reads it where it lies: every gradient bit for bit what the same gradient gives packed, for the plain and the
    /// SiLU form, batch 1 and 3, float32 and float64; and a float64 gradcheck through the concatenation.
    /// </summary>
    [Theory]
    [InlineData(DType.Float32, 3, false)]
    [InlineData(DType.Float32, 3, true)]
    [InlineData(DType.Float32, 1, true)]
    [InlineData(DType.Float64, 3, true)]
    [InlineData(DType.Float64, 1, false)]
    public void A_channel_slice_of_a_concatenations_gradient_gives_the_packed_gradients_bits(DType dtype, int n, bool silu)
    {
        var x0 = (Torch.Randn([n, 5, 3, 7], DType.Float64, new Generator(30)) * 2 + 0.5).To(dtype);
        var w0 = Torch.Randn([5], DType.Float64, new Generator(31)).To(dtype);
        var b0 = Torch.Randn([5], DType.Float64, new Generator(32)).To(dtype);
        var other = Torch.Randn([n, 2, 3, 7], DType.Float64, new Generator(33)).To(dtype);
        var g = Torch.Randn([n, 7, 3, 7], DType.Float64, new Generator(34)).To(dtype);
        Tensor[] Run(bool concatenated)
        {
            var x = x0.Clone().RequiresGradInPlace(); var w = w0.Clone().RequiresGradInPlace(); var b = b0.Clone().RequiresGradInPlace();
            var y = BatchNormOps.Training(x, w, b, 1e-3, silu).Output;
            // the op's output at channels 2..6 of 7: its gradient a slice whose images lie 7 planes apart (for n > 1)
            if (concatenated) Torch.Cat([other, y], 1).Backward(g);
            else y.Backward(g.Narrow(1, 2, 5).Contiguous());
            return [x.Grad!, w.Grad!, b.Grad!];
        }
        var packed = Run(false);
        var slice = Run(true);
        string[] names = ["dx", "dweight", "dbias"];
        for (int i = 0; i < 3; i++)
            Assert.True(packed[i].To(DType.Float64).ToArray<double>().SequenceEqual(slice[i].To(DType.Float64).ToArray<double>()), $"{dtype} n={n} silu={silu} {names[i]} differs");
        if (dtype == DType.Float64)
        {
            var xl = x0.Clone().RequiresGradInPlace(); var wl = w0.Clone().RequiresGradInPlace(); var bl = b0.Clone().RequiresGradInPlace();
            Ember.Autograd.GradCheck.Check(t => Torch.Cat([other, BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu).Output], 1) * g, [xl, wl, bl]);
        }
    }

    internal static Tensor Seq(int[] shape, double a, double b)
    {
        int n = 1; foreach (var d in shape) n *= d;
        return (Torch.Arange(0.0, n, 1.0, DType.Float64) * a + b).Sin().Reshape(shape);
    }

    /// <summary>The fused op's intermediate: the tensor PyTorch's BN output is, between SiluBackward0 and NativeBatchNormBackward0.</summary>
    static Tensor BnOutputOf(Tensor y) => Assert.Single(y.Node!.Inputs);

    [Fact]
    public void A_hook_and_retain_grad_on_the_fused_ops_bn_output_see_pytorchs_gradient()
    {
        // s = sum(silu(bn(x))·v); PyTorch's bn_out.grad is dL/dy·silu′(bn_out), not dL/dy (Reference/Nn/batch_norm_silu_hook.oracle.csx)
        var x = (Seq([2, 3, 4, 5], 0.37, 0.1) * 2 + 0.5).Detach().RequiresGradInPlace();
        var w = (Seq([3], 0.53, 0.7) + 1).Detach().RequiresGradInPlace();
        var b = Seq([3], 1.1, 0.3).Detach().RequiresGradInPlace();
        var v = Seq([2, 3, 4, 5], 0.91, -0.4);
        var y = BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output;
        var bn = BnOutputOf(y);
        Tensor? hooked = null;
        using var hook = bn.RegisterHook(g => { hooked = g.Clone(); return null; });
        bn.RetainGrad();
        (y * v).Sum().Backward();
        TestUtil.Close(BatchNormSiluHookReference.BnOutputGrad, hooked!, rtol: 1e-12, atol: 1e-14);
        TestUtil.Close(BatchNormSiluHookReference.BnOutputGrad, bn.Grad!, rtol: 1e-12, atol: 1e-14);
        TestUtil.Close(BatchNormSiluHookReference.InputGrad, x.Grad!, rtol: 1e-10, atol: 1e-13);
        TestUtil.Close(BatchNormSiluHookReference.WeightGrad, w.Grad!, rtol: 1e-10, atol: 1e-13);
        TestUtil.Close(BatchNormSiluHookReference.BiasGrad, b.Grad!, rtol: 1e-10, atol: 1e-13);
    }

    [Theory]
    [InlineData(DType.Float32, "hook")]
    [InlineData(DType.Float32, "retain_grad")]
    [InlineData(DType.Float64, "hook")]
    [InlineData(DType.Float64, "retain_grad")]
    public void Watching_the_bn_output_leaves_every_gradient_bit_for_bit_and_sees_the_unfused_pairs(DType dtype, string watch)
    {
        var x0 = (Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(18)) * 3 + 1).To(dtype);
        var w0 = Torch.Randn([3], DType.Float64, new Generator(19)).To(dtype);
        var b0 = Torch.Randn([3], DType.Float64, new Generator(20)).To(dtype);
        var g = Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(21)).To(dtype);
        // (dx, dweight, dbias, the BN output's gradient when watched): the fused op unwatched, watched, and BN then SiLU
        Tensor?[] Run(bool fused, bool watched)
        {
            var x = x0.Clone().RequiresGradInPlace(); var w = w0.Clone().RequiresGradInPlace(); var b = b0.Clone().RequiresGradInPlace();
            Tensor y, bn;
            if (fused) { y = BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output; bn = BnOutputOf(y); }
            else { bn = BatchNormOps.Training(x, w, b, 1e-3).Output; y = Ember.Nn.Functional.F.Silu(bn); }
            Tensor? seen = null;
            using var hook = watched && watch == "hook" ? bn.RegisterHook(t => { seen = t.Clone(); return null; }) : null;
            if (watched && watch == "retain_grad") bn.RetainGrad();
            y.Backward(g);
            return [x.Grad!, w.Grad!, b.Grad!, watch == "hook" ? seen : bn.Grad];
        }
        var unwatched = Run(fused: true, watched: false);
        var watched = Run(fused: true, watched: true);
        var pair = Run(fused: false, watched: true);
        string[] names = ["dx", "dweight", "dbias"];
        for (int i = 0; i < 3; i++)
            Assert.True(Bits(unwatched[i]!).SequenceEqual(Bits(watched[i]!)), $"{dtype} {watch}: {names[i]} changed when the BN output was watched");
        Assert.Null(unwatched[3]);
        Assert.True(Bits(pair[3]!).SequenceEqual(Bits(watched[3]!)), $"{dtype} {watch}: the BN output's gradient differs from BN then SiLU's");
    }

    static double[] Bits(Tensor t) => t.To(DType.Float64).ToArray<double>();

    [Fact]
    public void A_hook_that_replaces_the_bn_output_gradient_changes_what_flows_into_bn()
    {
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 25, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 26);
        var b = TestUtil.Leaf([4], seed: 27);
        var y = BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output;
        // zeroing one channel's gradient of the BN output zeroes that channel's dbias, dweight and dx, as in PyTorch
        using var hook = BnOutputOf(y).RegisterHook(g => g * Torch.Tensor([1.0, 0.0, 1.0, 1.0]).Reshape([1, 4, 1, 1]));
        y.Square().Sum().Backward();
        Assert.Equal(0.0, b.Grad!.ToDoubleArray()[1]);
        Assert.Equal(0.0, w.Grad!.ToDoubleArray()[1]);
        Assert.All(x.Grad!.Select(1, 1).ToDoubleArray(), d => Assert.Equal(0.0, d));
        Assert.NotEqual(0.0, b.Grad!.ToDoubleArray()[0]);
    }

    [Fact]
    public void Fused_silu_op_watched_passes_gradcheck_and_double_backward()
    {
        // the watched backward (SiluBackward0 hands BN its output's gradient) on both paths: kernels and differentiable ops
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 28, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 29);
        var b = TestUtil.Leaf([4], seed: 30);
        Tensor Watched(Tensor[] t)
        {
            var y = BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu: true).Output;
            BnOutputOf(y).RetainGrad();
            return y;
        }
        Ember.Autograd.GradCheck.Check(Watched, [x, w, b]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => Watched(t).Square(), [x, w, b], atol: 1e-4);
    }

    [Fact]
    public void Fused_silu_op_rejects_half_inputs()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNormOps.Training(Torch.Ones([2, 3, 4], DType.Float16), null, null, 1e-3, silu: true));
        Assert.Contains("batch_norm with SiLU", e.Message);
    }

    [Fact]
    public void Fused_statistics_equal_the_composite_definition()
    {
        var x = Torch.Randn([8, 3, 5], DType.Float64, new Generator(4)) * 3 + 1;
        var (y, mean, variance) = BatchNormOps.Training(x, null, null, 1e-5);
        TestUtil.Close(x.Mean([0, 2]), mean, rtol: 1e-12);
        TestUtil.Close(x.Var([0, 2], correction: 0), variance, rtol: 1e-9);
        var expected = (x - x.Mean([0, 2], keepDim: true)) / (x.Var([0, 2], keepDim: true, correction: 0) + 1e-5).Sqrt();
        TestUtil.Close(expected, y, rtol: 1e-10, atol: 1e-12);
    }
}
