using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn.Losses;

/// <summary>Gradchecks, identities and module behaviour of the classification losses (values vs PyTorch: LossOracleTests).</summary>
public class ClassificationLossTests
{
    static Tensor Probabilities(int[] shape, long seed) => (Torch.Rand(shape, DType.Float64, new Generator(seed)) * 0.8 + 0.1).Detach().RequiresGradInPlace();
    static readonly Tensor Targets = Torch.Tensor(1L, 0L, 3L, -100L, 2L);

    [Theory]
    [InlineData(Reduction.None)]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    public void BCE_passes_gradcheck_in_input_and_target_and_second_order(Reduction reduction)
    {
        var p = Probabilities([3, 4], 1);
        var t = Probabilities([3, 4], 2);
        var w = Torch.Rand([4], DType.Float64, new Generator(3)) + 0.5;
        GradCheck.Check(xs => F.BinaryCrossEntropy(xs[0], xs[1], w, reduction), [p, t]);
        GradCheck.CheckSecondOrder(xs => F.BinaryCrossEntropy(xs[0], xs[1], reduction: reduction), [p, t]);
    }

    [Fact]
    public void BCE_with_logits_passes_gradcheck_with_weight_and_pos_weight_and_matches_BCE_of_the_sigmoid()
    {
        var x = TestUtil.Leaf([3, 4], 4, scale: 2);
        var t = Probabilities([3, 4], 5);
        var w = Torch.Rand([3, 1], DType.Float64, new Generator(6)) + 0.5;
        var pw = Torch.Tensor(0.5, 1.0, 2.0, 4.0);
        GradCheck.Check(xs => F.BinaryCrossEntropyWithLogits(xs[0], xs[1], w, pw, Reduction.None), [x, t]);
        GradCheck.CheckSecondOrder(xs => F.BinaryCrossEntropyWithLogits(xs[0], xs[1], posWeight: pw), [x, t]);
        TestUtil.Close(F.BinaryCrossEntropy(x.Sigmoid(), t, w, Reduction.None), F.BinaryCrossEntropyWithLogits(x, t, w, reduction: Reduction.None), rtol: 1e-12);
        // pos_weight scales the positive term only: with t = 1 the loss is pw·softplus(−x)
        var ones = Torch.OnesLike(x);
        TestUtil.Close((-x).Softplus() * pw, F.BinaryCrossEntropyWithLogits(x, ones, posWeight: pw, reduction: Reduction.None), rtol: 1e-12);
    }

    [Fact]
    public void BCE_with_logits_is_finite_for_huge_logits_where_sigmoid_then_log_is_not()
    {
        var x = Torch.Tensor(-200f, 200f);
        var t = Torch.Tensor(1f, 0f);
        TestUtil.Close([200, 200], F.BinaryCrossEntropyWithLogits(x, t, reduction: Reduction.None), rtol: 1e-6);
        // BCE on σ(x) hits the −100 clamp instead
        TestUtil.Close([100, 100], F.BinaryCrossEntropy(x.Sigmoid(), t, reduction: Reduction.None), rtol: 1e-6);
    }

    [Theory]
    [InlineData(Reduction.None, 0.0)]
    [InlineData(Reduction.Mean, 0.0)]
    [InlineData(Reduction.Mean, 0.3)]
    [InlineData(Reduction.Sum, 0.2)]
    [InlineData(Reduction.None, 0.2)]
    public void Cross_entropy_with_indices_weights_and_ignore_index_passes_gradcheck(Reduction reduction, double smoothing)
    {
        var x = TestUtil.Leaf([5, 4], 7);
        var w = Torch.Tensor(0.3, 1.0, 2.0, 0.6);
        GradCheck.Check(xs => F.CrossEntropy(xs[0], Targets, w, -100, reduction, smoothing), [x]);
        var x4 = TestUtil.Leaf([2, 3, 2, 2], 8);
        var t4 = Torch.FromArray(new long[] { 0, 2, 1, 1, 2, 0, 0, 1 }, [2, 2, 2]);
        GradCheck.Check(xs => F.CrossEntropy(xs[0], t4, Torch.Tensor(1.0, 2.0, 0.5), 1, reduction, smoothing), [x4]);
    }

    [Fact]
    public void Cross_entropy_with_probabilities_passes_gradcheck_in_input_and_target_and_second_order()
    {
        var x = TestUtil.Leaf([3, 4, 2], 9);
        var p = Probabilities([3, 4, 2], 10);
        var w = Torch.Tensor(0.3, 1.0, 2.0, 0.6);
        GradCheck.Check(xs => F.CrossEntropy(xs[0], xs[1], w, labelSmoothing: 0.1), [x, p]);
        GradCheck.CheckSecondOrder(xs => F.CrossEntropy(xs[0], Targets, w, labelSmoothing: 0.1), [TestUtil.Leaf([5, 4], 11)]);
    }

    [Fact]
    public void Cross_entropy_equals_log_softmax_then_nll_with_weights_and_ignore_index()
    {
        var x = TestUtil.Leaf([5, 4], 12);
        var w = Torch.Tensor(0.3, 1.0, 2.0, 0.6);
        foreach (var r in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
        {
            TestUtil.Close(F.CrossEntropy(x, Targets, w, reduction: r), F.NllLoss(x.LogSoftmax(1), Targets, w, reduction: r), rtol: 1e-12);
            TestUtil.Close(new CrossEntropyLoss(w, reduction: r).Forward(x, Targets), new NLLLoss(w, reduction: r).Forward(x.Softmax(1).Log(), Targets), rtol: 1e-10);
        }
        // the weighted mean divides by the weights of the counted targets: (Σ w[t]·ℓ) / Σ w[t]
        var perSample = F.NllLoss(x.LogSoftmax(1), Targets, reduction: Reduction.None).ToDoubleArray();
        double[] wt = [1.0, 0.3, 0.6, 0, 2.0];
        double expected = 0, total = 0;
        for (int i = 0; i < 5; i++) { expected += wt[i] * perSample[i]; total += wt[i]; }
        TestUtil.Close([expected / total], F.CrossEntropy(x, Targets, w), rtol: 1e-12);
        GradCheck.Check(xs => F.NllLoss(xs[0], Targets, w), [x]);
    }

    [Fact]
    public void Cross_entropy_handles_unbatched_inputs_and_an_all_ignored_batch_like_pytorch()
    {
        var x = Torch.Tensor(0.5f, -1f, 2f);
        var y = F.CrossEntropy(x, Torch.Scalar(2, DType.Int64), reduction: Reduction.None);
        Assert.Equal(0, y.Rank);
        TestUtil.Close([-x.LogSoftmax(0).ToDoubleArray()[2]], y, rtol: 1e-6);
        var all = F.CrossEntropy(Torch.Randn(2, 3), Torch.Tensor(-100L, -100L));
        Assert.True(double.IsNaN(all.Item()));
        var none = F.CrossEntropy(Torch.Randn(2, 3), Torch.Tensor(-100L, 1L), reduction: Reduction.None);
        Assert.Equal(0.0, none.ToDoubleArray()[0]);
    }

    [Fact]
    public void KL_divergence_is_zero_for_equal_distributions_and_has_no_NaN_gradient_at_zero_targets()
    {
        var p = Torch.Tensor(new double[,] { { 0.2, 0.8, 0.0 }, { 0.5, 0.25, 0.25 } });
        var logq = p.Detach().Clamp(min: 1e-300).Log().RequiresGradInPlace();
        var loss = F.KlDiv(logq, p, Reduction.BatchMean);
        Assert.Equal(0.0, loss.Item(), 12);
        var target = p.Detach().RequiresGradInPlace();
        var q = TestUtil.Leaf([2, 3], 13).LogSoftmax(1).Detach().RequiresGradInPlace();
        F.KlDiv(q, target, Reduction.Sum).Backward();
        Assert.All(target.Grad!.ToDoubleArray(), g => Assert.False(double.IsNaN(g)));
        Assert.All(q.Grad!.ToDoubleArray(), g => Assert.False(double.IsNaN(g)));
        // batchmean = sum / N; mean = sum / numel
        var s = F.KlDiv(q, p, Reduction.Sum).Item();
        Assert.Equal(s / 2, F.KlDiv(q, p, Reduction.BatchMean).Item(), 12);
        Assert.Equal(s / 6, new KLDivLoss().Forward(q, p).Item(), 12);
    }

    [Fact]
    public void KL_divergence_soft_margin_and_focal_losses_pass_gradcheck()
    {
        var x = TestUtil.Leaf([3, 4], 14);
        var p = Probabilities([3, 4], 15);
        var lp = TestUtil.Leaf([3, 4], 16).LogSoftmax(1).Detach().RequiresGradInPlace();
        GradCheck.Check(xs => F.KlDiv(xs[0].LogSoftmax(1), xs[1], Reduction.BatchMean), [x, p]);
        GradCheck.Check(xs => F.KlDiv(xs[0], xs[1], Reduction.None, logTarget: true), [x, lp]);
        var sign = Torch.Where(Torch.Rand([3, 4], DType.Float64, new Generator(17)) > 0.5, Torch.OnesLike(x), -Torch.OnesLike(x));
        GradCheck.Check(xs => F.SoftMarginLoss(xs[0], sign, Reduction.None), [x]);
        var t = (Torch.Rand([3, 4], DType.Float64, new Generator(18)) > 0.5).To(DType.Float64);
        GradCheck.Check(xs => F.SigmoidFocalLoss(xs[0], t, 0.25, 2, Reduction.Mean), [x]);
        GradCheck.Check(xs => F.SigmoidFocalLoss(xs[0], t, -1, 1.5, Reduction.None), [x]);
        GradCheck.Check(xs => F.FocalLoss(xs[0], t, 1.5, 0.25, Reduction.Sum), [x]);
    }

    [Fact]
    public void Focal_losses_reduce_to_their_parts_at_gamma_zero()
    {
        var x = TestUtil.Leaf([3, 4], 19);
        var t = (Torch.Rand([3, 4], DType.Float64, new Generator(20)) > 0.5).To(DType.Float64);
        var bce = F.BinaryCrossEntropyWithLogits(x, t, reduction: Reduction.None);
        TestUtil.Close(bce, F.SigmoidFocalLoss(x, t, alpha: -1, gamma: 0), rtol: 1e-12);
        TestUtil.Close(bce * (t * 0.25 + (1.0 - t) * 0.75), F.FocalLoss(x, t, gamma: 0, alpha: 0.25, reduction: Reduction.None), rtol: 1e-12);
    }

    [Fact]
    public void FocalLoss_takes_over_the_wrapped_loss_reduction_and_sets_it_to_none()
    {
        var pw = Torch.Tensor(2.0, 0.5, 1.0, 3.0);
        var bce = new BCEWithLogitsLoss(reduction: Reduction.Sum, posWeight: pw);
        var focal = new FocalLoss(bce);
        Assert.Equal(Reduction.Sum, focal.Reduction);
        Assert.Equal(Reduction.None, bce.Reduction);
        Assert.Equal(1.5, focal.Gamma);
        Assert.Equal(0.25, focal.Alpha);
        Assert.Equal(Reduction.Mean, new FocalLoss().Reduction);
        var x = TestUtil.Leaf([3, 4], 21);
        var t = (Torch.Rand([3, 4], DType.Float64, new Generator(22)) > 0.5).To(DType.Float64);
        var expected = F.FocalLoss(x, t, 1.5, 0.25, Reduction.Sum, F.BinaryCrossEntropyWithLogits(x, t, posWeight: pw, reduction: Reduction.None));
        TestUtil.Close(expected, focal.Forward(x, t), rtol: 1e-12);
        Assert.Contains("loss_fcn.pos_weight", focal.StateDict().Keys);
    }

    [Fact]
    public void Loss_modules_call_their_functional_form_and_keep_weights_as_buffers()
    {
        var x = TestUtil.Leaf([5, 4], 23);
        var w = Torch.Tensor(0.3, 1.0, 2.0, 0.6);
        var ce = new CrossEntropyLoss(w, ignoreIndex: 2, reduction: Reduction.Sum, labelSmoothing: 0.1);
        TestUtil.Close(F.CrossEntropy(x, Torch.Tensor(1L, 0L, 3L, 2L, 2L), w, 2, Reduction.Sum, 0.1), ce.Forward(x, Torch.Tensor(1L, 0L, 3L, 2L, 2L)), rtol: 1e-12);
        Assert.Equal(["weight"], ce.StateDict().Keys);
        Assert.Equal(["weight", "pos_weight"], new BCEWithLogitsLoss(Torch.Ones(4), posWeight: Torch.Ones(4)).StateDict().Keys);
        Assert.Empty(new BCEWithLogitsLoss().StateDict());
        Assert.Contains("label_smoothing=0.1", ce.ToString());
        var t = (Torch.Rand([5, 4], DType.Float64, new Generator(24)) > 0.5).To(DType.Float64);
        TestUtil.Close(F.SigmoidFocalLoss(x, t), new SigmoidFocalLoss().Forward(x, t), rtol: 1e-12);
        TestUtil.Close(F.SoftMarginLoss(x, t * 2 - 1), new SoftMarginLoss().Forward(x, t * 2 - 1), rtol: 1e-12);
        var p = x.Sigmoid().Detach();
        TestUtil.Close(F.BinaryCrossEntropy(p, t, w), new BCELoss(w).Forward(p, t), rtol: 1e-12);
    }
}
