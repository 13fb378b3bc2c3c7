using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using static Ember.Tests.Nn.NnTestUtil;

namespace Ember.Tests.Nn;

public class LinearEmbeddingTests
{
    [Fact]
    public void Linear_matches_PyTorch_forward_and_gradients()
    {
        var lin = new Linear(4, 5);
        Set(lin.Weight, Det([5, 4], 0.61, 0.2, 0.5));
        Set(lin.Bias!, Det([5], 0.9, 0.3, 0.2));
        var x = Leaf(X);
        var y = lin.Call(x);
        Assert.Equal(new Shape(2, 3, 5), y.Shape);
        Backward(y);
        Close("linear.y", y);
        Close("linear.dx", x.Grad!);
        Close("linear.dw", lin.Weight.Grad!);
        Close("linear.db", lin.Bias!.Grad!);
        GradCheck.Check(xs => F.Linear(xs[0], xs[1], xs[2]), [TestUtil.Leaf([2, 3, 4], 1), TestUtil.Leaf([5, 4], 2), TestUtil.Leaf([5], 3)]);
    }

    [Fact]
    public void Linear_rejects_a_wrong_feature_count_naming_the_sizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Linear(4, 3).Call(Torch.Zeros(2, 5)));
        Assert.Contains("Linear", ex.Message);
        Assert.Contains("4 features", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Null(new Linear(2, 2, bias: false).Bias);
        Assert.Single(new Linear(2, 2, bias: false).Parameters());
    }

    [Fact]
    public void Bilinear_equals_the_explicit_sum()
    {
        var x1 = TestUtil.Leaf([3, 2], 1); var x2 = TestUtil.Leaf([3, 4], 2); var w = TestUtil.Leaf([5, 2, 4], 3); var b = TestUtil.Leaf([5], 4);
        var y = F.Bilinear(x1, x2, w, b);
        var expected = (x1.Unsqueeze(1).Unsqueeze(-1) * w.Unsqueeze(0) * x2.Unsqueeze(1).Unsqueeze(2)).Sum([2, 3]) + b;
        TestUtil.Close(expected, y, 1e-12, 1e-12);
        GradCheck.Check(xs => F.Bilinear(xs[0], xs[1], xs[2], xs[3]), [x1, x2, w, b]);
    }

    [Fact]
    public void Identity_Flatten_Unflatten()
    {
        var x = Torch.Zeros(2, 3, 4, 5);
        Assert.Same(x, new Identity().Call(x));
        Assert.Equal(new Shape(2, 60), new Flatten().Call(x).Shape);
        Assert.Equal(new Shape(2, 12, 5), new Flatten(1, 2).Call(x).Shape);
        Assert.Equal(new Shape(2, 3, 2, 2, 5), new Unflatten(2, 2, -1).Call(x).Shape);
    }

    static Tensor Indices => Torch.FromArray(new long[] { 0, 2, 5, 2, 0, 1 }, [2, 3]);

    [Fact]
    public void Embedding_padding_row_gets_no_gradient_and_matches_PyTorch()
    {
        var emb = new Embedding(6, 3, paddingIdx: 0);
        TestUtil.Close([0, 0, 0], emb.Weight.Narrow(0, 0, 1));
        Set(emb.Weight, Det([6, 3], 0.9, 0.4, 1.5));
        var y = emb.Call(Indices);
        Assert.Equal(new Shape(2, 3, 3), y.Shape);
        Backward(y);
        Close("emb.y", y);
        Close("emb.dw", emb.Weight.Grad!);
        // The padding row is deliberately excluded from the gradient (as in PyTorch), so gradcheck runs without it.
        var w = TestUtil.Leaf([6, 3], 5);
        GradCheck.Check(xs => F.Embedding(Indices, xs[0]), [w]);
    }

    [Fact]
    public void Embedding_max_norm_renormalizes_looked_up_rows_in_place()
    {
        var emb = new Embedding(6, 3, maxNorm: 1.0);
        Set(emb.Weight, Det([6, 3], 0.9, 0.4, 1.5));
        var y = emb.Call(Indices);
        Close("emb_maxnorm.y", y);
        Close("emb_maxnorm.weight_after", emb.Weight);
        Assert.True(emb.Weight.RequiresGrad);
    }

    [Fact]
    public void Embedding_from_pretrained_freezes_by_default_and_checks_indices()
    {
        var table = Det([4, 2], 0.5, 0.1, 1);
        var frozen = Embedding.FromPretrained(table);
        Assert.False(frozen.Weight.RequiresGrad);
        TestUtil.Close(table, frozen.Weight, 0, 0);
        Assert.True(Embedding.FromPretrained(table, freeze: false).Weight.RequiresGrad);
        var ex = Assert.Throws<ArgumentException>(() => frozen.Call(Torch.FromArray(new long[] { 4 }, [1])));
        Assert.Contains("index 4", ex.Message);
        Assert.Contains("4 embeddings", ex.Message);
    }
}
