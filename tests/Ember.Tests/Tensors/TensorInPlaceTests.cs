namespace Ember.Tests.Tensors;

/// <summary>Tensor.InPlace: version counter, saved-tensor checks, leaves, history rebasing.</summary>
public class TensorInPlaceTests
{
    [Fact]
    public void In_place_ops_bump_the_version_shared_by_views()
    {
        var x = Torch.Zeros(2, 3);
        var v = x[0];
        Assert.Equal(0, x.Version);
        x.AddInPlace(1.0);
        Assert.Equal(1, x.Version);
        v.MulInPlace(3.0);
        Assert.Equal(2, x.Version);
        x.SubInPlace(Torch.Ones(3)).DivInPlace(2.0).ClampInPlace(0, 0.5).ReluInPlace().FillInPlace(2).ZeroInPlace();
        x.MaskedFillInPlace(Torch.Tensor(true, false, true), 4).CopyFrom(Torch.Ones(3));
        Assert.Equal(10, x.Version);
        Assert.Equal(10, v.Version);
    }

    [Fact]
    public void In_place_values_match_the_out_of_place_ops()
    {
        var a = Torch.Tensor(new float[,] { { 1, -2 }, { 3, -4 } });
        TestUtil.Close((a + Torch.Tensor(1f, 2f) * 2.0), a.Clone().AddInPlace(Torch.Tensor(1f, 2f), 2), 0, 0);
        TestUtil.Close(a - a.T, a.Clone().SubInPlace(a.T), 0, 0);
        TestUtil.Close(a * Torch.Tensor(new float[,] { { 2 }, { 3 } }), a.Clone().MulInPlace(Torch.Tensor(new float[,] { { 2 }, { 3 } })), 0, 0);
        TestUtil.Close(a / 4.0, a.Clone().DivInPlace(4.0), 0, 0);
        TestUtil.Close(a.Clamp(-1, 2), a.Clone().ClampInPlace(-1, 2), 0, 0);
        TestUtil.Close(a.Relu(), a.Clone().ReluInPlace(), 0, 0);
        var t = a.T.Contiguous().T;              // non-contiguous destination
        t.AddInPlace(1.0);
        TestUtil.Close(a + 1.0, t, 0, 0);
        var c = Torch.Zeros(2, 2);
        c.CopyFrom(Torch.Tensor(5L, 6L));         // broadcast and convert
        TestUtil.Close([5, 6, 5, 6], c);
        Assert.Throws<ArgumentException>(() => Torch.Zeros(2).AddInPlace(Torch.Zeros(2, 2)));
        Assert.Throws<ArgumentException>(() => Torch.Zeros(2).CopyFrom(Torch.Zeros(3)));
    }

    [Fact]
    public void Modifying_a_saved_tensor_then_backward_raises()
    {
        var x = Torch.Tensor(1.0, 2.0).RequiresGradInPlace();
        var y = x * 2.0;
        var z = y.Exp();            // saves its output
        z.MulInPlace(2.0);
        var ex = Assert.Throws<InvalidOperationException>(() => z.Sum().Backward());
        Assert.Contains("modified by an inplace operation", ex.Message);
        Assert.Contains("ExpBackward0", ex.Message);

        var a = Torch.Tensor(1.0, 2.0).RequiresGradInPlace();
        var b = a * 1.0;
        var c = b * b;              // saves b
        b.AddInPlace(1.0);
        Assert.Throws<InvalidOperationException>(() => c.Sum().Backward());
    }

    [Fact]
    public void In_place_on_a_leaf_that_requires_grad_errors_but_works_under_NoGrad()
    {
        var w = Torch.Tensor(1.0, 2.0).RequiresGradInPlace();
        var ex = Assert.Throws<InvalidOperationException>(() => w.AddInPlace(1.0));
        Assert.Contains("leaf", ex.Message);
        Assert.Contains("add_", ex.Message);
        Assert.Throws<InvalidOperationException>(() => w.MulInPlace(Torch.Tensor(2.0, 2.0)));
        Assert.Throws<InvalidOperationException>(() => w.FillInPlace(0));
        Assert.Throws<InvalidOperationException>(() => w.CopyFrom(Torch.Zeros([2], DType.Float64)));
        using (Torch.NoGrad()) w.SubInPlace(Torch.Tensor(0.5, 0.5)).MulInPlace(2.0);
        Assert.Equal([1.0, 3.0], w.ToArray<double>());
        Assert.True(w.IsLeaf);
    }

    [Fact]
    public void In_place_on_a_non_leaf_rebases_history_and_gradients_stay_right()
    {
        var x = Torch.Tensor(1.0, -2.0, 3.0).RequiresGradInPlace();
        var w = Torch.Tensor(0.5, 0.5, 2.0).RequiresGradInPlace();
        var h = x * x;               // MulBackward0
        h.MulInPlace(w);             // h = x² w: needs the old h for w's gradient
        Assert.Equal("MulBackward0", h.GradFn);
        h.AddInPlace(x).ReluInPlace();
        Assert.Equal("ReluBackward0", h.GradFn);
        h.Sum().Backward();
        // h = relu(x² w + x): [1.5, 0, 21]; d/dx = (2 x w + 1)·[>0], d/dw = x²·[>0]
        TestUtil.Close([2, 0, 13], x.Grad!);
        TestUtil.Close([1, 0, 9], w.Grad!);
    }

    [Fact]
    public void In_place_on_a_view_of_a_non_leaf_is_differentiable_through_copy()
    {
        var x = Torch.Tensor(1.0, 2.0, 3.0).RequiresGradInPlace();
        var y = x * 2.0;
        y.CopyFrom(Torch.Tensor(7.0, 8.0, 9.0));  // old values no longer matter
        y.MulInPlace(x);
        y.Sum().Backward();
        TestUtil.Close([7, 8, 9], x.Grad!);
        var s = Torch.Tensor(1.0, 2.0).RequiresGradInPlace();
        var z = Torch.Zeros([2], DType.Float64);
        z.CopyFrom(s * 3.0);
        Assert.True(z.RequiresGrad);
        z.Sum().Backward();
        TestUtil.Close([3, 3], s.Grad!);
    }

    [Fact]
    public void In_place_ops_double_backward()
    {
        var x = Torch.Tensor(0.5, 1.5).RequiresGradInPlace();
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => { var h = xs[0] * 1.0; h.MulInPlace(xs[0]); h.AddInPlace(xs[0].Sin()); return h; }, [x]);
    }
}
