using Ember.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>The backward engine: accumulation, retained graphs, grad modes, retain_grad, torch.autograd.grad, errors.</summary>
public class EngineTests
{
    static Tensor Leaf(params double[] v) => Torch.Tensor(v).RequiresGradInPlace();

    [Fact]
    public void Gradients_accumulate_across_two_backward_calls()
    {
        var x = Leaf(1, 2, 3);
        (x * x).Sum().Backward();
        (x * 3.0).Sum().Backward();
        TestUtil.Close([5, 7, 9], x.Grad!);
    }

    [Fact]
    public void A_fresh_gradient_is_adopted_by_one_leaf_only_and_each_grad_stays_its_own()
    {
        // (a + b) · 2: the mul's backward makes one fresh gradient, which the add hands to both leaves unchanged.
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var y = (a + b) * 2.0;
        y.Backward(Torch.Tensor(new[] { 1.0, 1.0 }));
        Assert.NotSame(a.Grad!.storage, b.Grad!.storage);
        a.Grad.AddInPlace(Torch.Tensor(new[] { 10.0, 10.0 }));
        TestUtil.Close([2, 2], b.Grad);
        // The fresh gradient itself was kept (no copy): a later allocation must not come between it and the pass.
        long before = Storage.LastSerial;
        var c = Leaf(5, 6);
        (c * 3.0).Backward(Torch.Tensor(new[] { 1.0, 1.0 }));
        Assert.True(c.Grad!.storage.Serial > before);
    }

    [Fact]
    public void The_seed_and_forward_tensors_are_never_adopted_as_a_grad()
    {
        // Reshape's backward returns a view of the seed; the leaf must get its own copy, or updating it would change the seed.
        var x = Leaf(1, 2, 3, 4);
        var seed = Torch.Tensor(new[,] { { 1.0, 1.0 }, { 1.0, 1.0 } });
        x.Reshape([2, 2]).Backward(seed);
        x.Grad!.AddInPlace(Torch.Tensor(new[] { 1.0, 1.0, 1.0, 1.0 }));
        TestUtil.Close([1, 1, 1, 1], seed.Reshape([4]));
        // A tensor created before the pass (here the seed itself, reaching the leaf through an identity) is copied too.
        var w = Leaf(1, 2);
        var g = Torch.Tensor(new[] { 5.0, 6.0 });
        (w + 0.0).Backward(g);
        Assert.NotSame(g.storage, w.Grad!.storage);
    }

    [Fact]
    public void RetainGraph_allows_a_second_backward_and_without_it_the_error_is_clear()
    {
        var x = Leaf(1, 2);
        var y = (x.Exp() * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        var e = Math.E;
        TestUtil.Close([2 * (e + e), 2 * (e * e + 2 * e * e)], x.Grad!, rtol: 1e-12);
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
    }

    [Fact]
    public void Non_scalar_backward_needs_a_gradient()
    {
        var x = Leaf(1, 2);
        var y = x * 2.0;
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("scalar", ex.Message);
        Assert.Contains("[2]", ex.Message);
        y.Backward(Torch.Tensor(1.0, 10.0));
        TestUtil.Close([2, 20], x.Grad!);
        Assert.Throws<ArgumentException>(() => (x * 2.0).Backward(Torch.Ones([3], DType.Float64)));
        Assert.Throws<InvalidOperationException>(() => Torch.Tensor(1.0).Backward());
    }

    [Fact]
    public void RequiresGrad_on_an_integer_tensor_errors()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Torch.Tensor(1L, 2L).RequiresGrad = true);
        Assert.Contains("torch.int64", ex.Message);
        Assert.Throws<InvalidOperationException>(() => Torch.Tensor(true).RequiresGradInPlace());
    }

    [Fact]
    public void Detach_cuts_the_graph_but_shares_storage()
    {
        var x = Leaf(1, 2);
        var y = x * 2.0;
        var d = y.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Null(d.GradFn);
        Assert.Same(y.storage, d.storage);
        var z = (d * x).Sum();
        z.Backward();
        TestUtil.Close([2, 4], x.Grad!);   // d is a constant
    }

    [Fact]
    public void NoGrad_allocates_no_graph_and_EnableGrad_reenables_inside_it()
    {
        var x = Leaf(1, 2);
        using (Torch.NoGrad())
        {
            Assert.False(Torch.IsGradEnabled);
            var y = (x * 2.0).Exp().Sum();
            Assert.Null(y.GradFn);
            Assert.False(y.RequiresGrad);
            Assert.Null(x.MatMul(x).GradFn);
            Assert.Null(x.Softmax(0).GradFn);
            Assert.Null(x[1..].GradFn);
            using (Torch.EnableGrad())
            {
                Assert.True(Torch.IsGradEnabled);
                Assert.Equal("MulBackward0", (x * 2.0).GradFn);
            }
            Assert.False(Torch.IsGradEnabled);
        }
        Assert.True(Torch.IsGradEnabled);
        Assert.Equal("MulBackward0", (x * 2.0).GradFn);
    }

    [Fact]
    public void RetainGrad_keeps_the_gradient_of_a_non_leaf()
    {
        var x = Leaf(1, 2);
        var h = x * 3.0;
        h.RetainGrad();
        var other = x * 4.0;
        (h * h).Sum().Backward();
        Assert.False(h.IsLeaf);
        TestUtil.Close([6, 12], h.Grad!);
        Assert.Null(other.Grad);
        TestUtil.Close([18, 36], x.Grad!);
    }

    [Fact]
    public void Grad_with_createGraph_gives_Hessian_vector_products()
    {
        // f(x) = Σ x_i² x_{i+1} + Σ sin(x_i); H is tridiagonal
        var x = Leaf(0.5, -1.0, 2.0);
        var v = Torch.Tensor(1.0, 2.0, -1.0);
        Tensor F(Tensor t) => (t[..^1].Square() * t[1..]).Sum() + t.Sin().Sum();
        var g = Torch.Grad(F(x), [x], createGraph: true)[0]!;
        Assert.True(g.RequiresGrad);
        var hv = Torch.Grad((g * v).Sum(), [x])[0]!;
        double[] xs = [0.5, -1.0, 2.0];
        var h = new double[3, 3];
        for (int i = 0; i < 3; i++) h[i, i] = -Math.Sin(xs[i]) + (i < 2 ? 2 * xs[i + 1] : 0);
        for (int i = 0; i < 2; i++) { h[i, i + 1] = 2 * xs[i]; h[i + 1, i] = 2 * xs[i]; }
        double[] vs = [1, 2, -1];
        var expected = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 3).Sum(j => h[i, j] * vs[j])).ToArray();
        TestUtil.Close(expected, hv, rtol: 1e-12, atol: 1e-12);
        Assert.Null(x.Grad);   // Torch.Grad does not accumulate
    }

    [Fact]
    public void Grad_reports_unused_inputs_unless_allowed()
    {
        var x = Leaf(1);
        var y = Leaf(2);
        var ex = Assert.Throws<InvalidOperationException>(() => Torch.Grad((x * 2.0).Sum(), [x, y]));
        Assert.Contains("input 1", ex.Message);
        var r = Torch.Grad((x * 2.0).Sum(), [x, y], allowUnused: true);
        TestUtil.Close([2], r[0]!);
        Assert.Null(r[1]);
    }

    [Fact]
    public void Shared_subexpressions_and_diamonds_sum_their_gradients()
    {
        var x = Leaf(2);
        var a = x * 3.0;
        var y = a * a + a.Exp() + a;
        y.Sum().Backward();
        TestUtil.Close([3 * (2 * 6 + Math.Exp(6) + 1)], x.Grad!, rtol: 1e-12);
    }

    [Fact]
    public void Topological_order_is_deterministic()
    {
        // the same graph built twice gives bit-identical gradients even with many paths summed
        double[] Run()
        {
            var x = Torch.Randn([50], DType.Float32, new Generator(1)).RequiresGradInPlace();
            var terms = Enumerable.Range(0, 20).Select(k => (x * (float)(k + 1) / 7f).Sin()).ToArray();
            var total = terms.Aggregate((p, q) => p + q * x);
            total.Sum().Backward();
            return x.Grad!.ToDoubleArray();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Deep_chains_do_not_overflow_the_stack()
    {
        var x = Leaf(1);
        var y = x;
        for (int i = 0; i < 20000; i++) y = y * 1.0;
        y.Sum().Backward();
        TestUtil.Close([1], x.Grad!);
    }
}
