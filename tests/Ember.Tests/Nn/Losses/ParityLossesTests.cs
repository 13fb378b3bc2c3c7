using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn.Losses;

/// <summary>
/// The losses issue 22 lists (triplet margin, margin ranking, cosine embedding, Poisson NLL, Gaussian NLL, multilabel
/// soft margin) against libtorch values (Reference/Nn/parity_losses.oracle.csx), float64 gradcheck, and their modules.
/// </summary>
public class ParityLossesTests
{
    static Tensor[] One(Tensor t) => [t];
    static readonly double[] Signs = [1, -1, 1, 1, -1, -1];
    static readonly double[] Labels = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0];

    // the same list as parity_losses.oracle.csx; targets that libtorch detaches are detached here too
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["triplet_margin"] = (() => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), In([4, 5], 0.4, 1.2, -0.1)], a => One(F.TripletMarginLoss(a[0], a[1], a[2]))),
        ["triplet_margin_p1_swap_sum"] = (() => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), In([4, 5], 0.4, 1.2, -0.1)], a => One(F.TripletMarginLoss(a[0], a[1], a[2], 2.0, 1, 1e-6, swap: true, Reduction.Sum))),
        ["triplet_margin_none_1d"] = (() => [In([5], 0.9), In([5], 1.3, 1, 0.2), In([5], 0.4, 1.2, -0.1)], a => One(F.TripletMarginLoss(a[0], a[1], a[2], 0.5, reduction: Reduction.None))),
        ["margin_ranking"] = (() => [In([6], 0.9), In([6], 1.3), Lit(Signs, 6)], a => One(F.MarginRankingLoss(a[0], a[1], a[2].Detach()))),
        ["margin_ranking_margin_none"] = (() => [In([6], 0.9), In([6], 1.3), Lit(Signs, 6)], a => One(F.MarginRankingLoss(a[0], a[1], a[2].Detach(), 0.3, Reduction.None))),
        ["cosine_embedding"] = (() => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), Lit([1, -1, -1, 1], 4)], a => One(F.CosineEmbeddingLoss(a[0], a[1], a[2].Detach()))),
        ["cosine_embedding_margin_sum"] = (() => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), Lit([1, -1, -1, 1], 4)], a => One(F.CosineEmbeddingLoss(a[0], a[1], a[2].Detach(), -0.2, Reduction.Sum))),
        ["cosine_embedding_1d"] = (() => [In([5], 0.9), In([5], 1.3, 1, 0.2), Lit([-1], 1).Detach().Reshape()], a => One(F.CosineEmbeddingLoss(a[0], a[1], a[2], 0.1))),
        ["poisson_nll"] = (() => [In([3, 4], 0.9), In([3, 4], 1.3, 2, 2.1)], a => One(F.PoissonNllLoss(a[0], a[1]))),
        ["poisson_nll_rate_full"] = (() => [In([3, 4], 0.9, 0.5, 1), In([3, 4], 1.3, 2, 2.1)], a => One(F.PoissonNllLoss(a[0], a[1], logInput: false, full: true))),
        ["poisson_nll_full_none"] = (() => [In([3, 4], 0.9), In([3, 4], 1.3, 2, 2.1)], a => One(F.PoissonNllLoss(a[0], a[1], full: true, reduction: Reduction.None))),
        ["gaussian_nll"] = (() => [In([4, 3], 0.9), In([4, 3], 1.3), In([4, 3], 0.7, 0.4, 0.6)], a => One(F.GaussianNllLoss(a[0], a[1], a[2]))),
        ["gaussian_nll_homoscedastic_full_sum"] = (() => [In([4, 3], 0.9), In([4, 3], 1.3), In([4], 0.7, 0.4, 0.6)], a => One(F.GaussianNllLoss(a[0], a[1], a[2], full: true, reduction: Reduction.Sum))),
        ["gaussian_nll_var_col_clamped_none"] = (() => [In([4, 3], 0.9), In([4, 3], 1.3), Lit([0.5, 1e-9, 2, 0.3], 4, 1)], a => One(F.GaussianNllLoss(a[0], a[1], a[2], reduction: Reduction.None))),
        ["multilabel_soft_margin"] = (() => [In([3, 4], 0.9, 2), Lit(Labels, 3, 4)], a => One(F.MultilabelSoftMarginLoss(a[0], a[1].Detach()))),
        ["multilabel_soft_margin_weight_none"] = (() => [In([3, 4], 0.9, 2), Lit(Labels, 3, 4), Lit([0.5, 1, 2, 0.1], 4)], a => One(F.MultilabelSoftMarginLoss(a[0], a[1].Detach(), a[2].Detach(), Reduction.None))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Loss_and_gradients_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(ParityLossesReference.Cases[name], make(), f, rtol: 1e-9);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(ParityLossesReference.Cases.Keys.Order(), Cases.Keys.Order());

    public static TheoryData<string> GradCheckNames() => ["triplet_swap", "margin_ranking", "cosine_embedding", "poisson_log", "poisson_rate_full", "gaussian", "multilabel"];

    [Theory]
    [MemberData(nameof(GradCheckNames))]
    public void Gradients_pass_float64_gradcheck_and_gradgradcheck(string name)
    {
        var sign = Torch.Tensor(1.0, -1.0, -1.0, 1.0);
        var counts = Torch.Tensor(0.0, 1.0, 3.0, 7.0);
        var (f, inputs) = name switch
        {
            "triplet_swap" => ((Func<Tensor[], Tensor>)(xs => F.TripletMarginLoss(xs[0], xs[1], xs[2], 3.0, 3, swap: true)),
                new[] { TestUtil.Leaf([4, 5], 1), TestUtil.Leaf([4, 5], 2), TestUtil.Leaf([4, 5], 3) }),
            "margin_ranking" => (xs => F.MarginRankingLoss(xs[0], xs[1], sign, 0.5, Reduction.Sum), [TestUtil.Leaf([4], 4), TestUtil.Leaf([4], 5)]),
            "cosine_embedding" => (xs => F.CosineEmbeddingLoss(xs[0], xs[1], sign, -0.5), [TestUtil.Leaf([4, 3], 6), TestUtil.Leaf([4, 3], 7)]),
            "poisson_log" => (xs => F.PoissonNllLoss(xs[0], xs[1]), [TestUtil.Leaf([4], 8), TestUtil.Leaf([4], 9, 1, 3)]),
            "poisson_rate_full" => (xs => F.PoissonNllLoss(xs[0].Square() + 0.5, counts, logInput: false, full: true), [TestUtil.Leaf([4], 10)]),
            "gaussian" => (xs => F.GaussianNllLoss(xs[0], xs[1], xs[2].Square() + 0.1, full: true), [TestUtil.Leaf([4, 3], 11), TestUtil.Leaf([4, 3], 12), TestUtil.Leaf([4], 13)]),
            "multilabel" => (xs => F.MultilabelSoftMarginLoss(xs[0], Torch.Tensor(new double[,] { { 1, 0, 1 }, { 0, 0, 1 } }), xs[1]), [TestUtil.Leaf([2, 3], 14), TestUtil.Leaf([3], 15)]),
            _ => throw new ArgumentException(name),
        };
        GradCheck.Check(f, inputs);
        // the margin ranking loss is piecewise linear: its second derivative is 0 and has no graph to check
        if (name != "margin_ranking") GradCheck.CheckSecondOrder(f, inputs);
    }

    [Fact]
    public void Modules_forward_one_call_into_F_with_their_options()
    {
        var a = In([4, 5], 0.9); var p = In([4, 5], 1.3, 1, 0.2); var n = In([4, 5], 0.4, 1.2, -0.1);
        var expected = ParityLossesReference.Cases["triplet_margin_p1_swap_sum"].Outputs[0].Values;
        TestUtil.Close(expected, new TripletMarginLoss(2.0, 1, swap: true, reduction: Reduction.Sum).Forward(a, p, n), 1e-12);
        Assert.Equal("TripletMarginLoss(margin=2, p=1, eps=1E-06, swap=True, reduction=Sum)", new TripletMarginLoss(2.0, 1, swap: true, reduction: Reduction.Sum).ToString());

        var signs = Lit(Signs, 6).Detach();
        TestUtil.Close(ParityLossesReference.Cases["margin_ranking_margin_none"].Outputs[0].Values,
            new MarginRankingLoss(0.3, Reduction.None).Forward(In([6], 0.9), In([6], 1.3), signs), 1e-12);
        TestUtil.Close(ParityLossesReference.Cases["cosine_embedding_margin_sum"].Outputs[0].Values,
            new CosineEmbeddingLoss(-0.2, Reduction.Sum).Forward(In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), Lit([1, -1, -1, 1], 4).Detach()), 1e-12);
        TestUtil.Close(ParityLossesReference.Cases["poisson_nll_rate_full"].Outputs[0].Values,
            new PoissonNLLLoss(logInput: false, full: true).Forward(In([3, 4], 0.9, 0.5, 1), In([3, 4], 1.3, 2, 2.1)), 1e-12);
        TestUtil.Close(ParityLossesReference.Cases["gaussian_nll_homoscedastic_full_sum"].Outputs[0].Values,
            new GaussianNLLLoss(full: true, reduction: Reduction.Sum).Forward(In([4, 3], 0.9), In([4, 3], 1.3), In([4], 0.7, 0.4, 0.6)), 1e-12);
        var weighted = new MultiLabelSoftMarginLoss(Lit([0.5, 1, 2, 0.1], 4).Detach(), Reduction.None);
        Assert.Contains("weight", weighted.StateDict().Keys);
        TestUtil.Close(ParityLossesReference.Cases["multilabel_soft_margin_weight_none"].Outputs[0].Values,
            weighted.Forward(In([3, 4], 0.9, 2), Lit(Labels, 3, 4).Detach()), 1e-12);
    }

    [Fact]
    public void Errors_name_the_loss_and_the_shapes()
    {
        var x = Torch.Zeros(4, 3);
        Assert.Contains("gaussian_nll_loss: var is of incorrect size",
            Assert.Throws<ArgumentException>(() => F.GaussianNllLoss(x, x, Torch.Ones(3))).Message);
        Assert.Contains("gaussian_nll_loss: var has negative entry/entries",
            Assert.Throws<ArgumentException>(() => F.GaussianNllLoss(x, x, -Torch.Ones(4, 3))).Message);
        Assert.Contains("triplet_margin_loss: the anchor, positive and negative must have the same number of dimensions",
            Assert.Throws<ArgumentException>(() => F.TripletMarginLoss(x, x, Torch.Zeros(3))).Message);
        Assert.Contains("cosine_embedding_loss: expected [N, D] inputs with an [N] target",
            Assert.Throws<ArgumentException>(() => F.CosineEmbeddingLoss(x, x, Torch.Ones(4, 3))).Message);
        Assert.Contains("margin_ranking_loss: all input tensors should have the same number of dimensions",
            Assert.Throws<ArgumentException>(() => F.MarginRankingLoss(Torch.Zeros(4), Torch.Zeros(4), x)).Message);
    }
}
