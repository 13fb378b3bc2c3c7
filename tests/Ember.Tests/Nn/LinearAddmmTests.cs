using Ember.Autograd;
using Ember.Nn.Functional;

namespace Ember.Tests.Nn;

/// <summary>
/// F.Linear with a bias as one addmm (the bias rides in the GEMM's store): the same values as the composed
/// x·Wᵀ + b, PyTorch's grad_fn names, and float64 gradchecks of every input layout the fused form takes.
/// </summary>
public class LinearAddmmTests
{
    static Tensor Randn(int[] shape, long seed, DType dtype = DType.Float32, bool grad = true)
    {
        var t = Torch.Randn(shape, dtype, new Generator(seed)).Detach();
        return grad ? t.RequiresGradInPlace() : t;
    }

    // With K inside one k-slice of every GEMM path (here 64) the bias is added once onto the finished sum, as the
    // composed add does: the forward bits agree, and so do the input and weight gradients (the same products).
    [Theory]
    [InlineData(new[] { 37, 64 })]
    [InlineData(new[] { 4, 9, 64 })]
    public void Fused_EqualsComposed_BitForBit(int[] inputShape)
    {
        var x = Randn(inputShape, 1);
        var w = Randn([45, 64], 2);
        var b = Randn([45], 3);
        var g = Randn([.. inputShape[..^1], 45], 4, grad: false);
        var fused = F.Linear(x, w, b);
        fused.Backward(g);
        var (dx, dw, db) = (x.Grad!, w.Grad!, b.Grad!);
        x.Grad = null; w.Grad = null; b.Grad = null;
        var composed = x.MatMul(w.T) + b;
        composed.Backward(g);
        Assert.Equal(composed.ToArray<float>(), fused.ToArray<float>());
        Assert.Equal(x.Grad!.ToArray<float>(), dx.ToArray<float>());
        Assert.Equal(w.Grad!.ToArray<float>(), dw.ToArray<float>());
        TestUtil.Close(b.Grad!, db, rtol: 1e-5, atol: 1e-5);
    }

    // Deeper than a k-slice the fused sum starts from the bias (PyTorch's addmm order), so it may differ in the last bits.
    [Fact]
    public void Fused_DeepProduct_CloseToComposed()
    {
        var x = Randn([70, 1100], 5, grad: false);
        var w = Randn([33, 1100], 6, grad: false);
        var b = Randn([33], 7, grad: false);
        TestUtil.Close(x.MatMul(w.T) + b, F.Linear(x, w, b), rtol: 1e-5, atol: 1e-4);
    }

    [Fact]
    public void GradFn_FollowsPyTorch()
    {
        var w = Randn([5, 4], 1);
        var b = Randn([5], 2);
        Assert.Equal("AddmmBackward0", F.Linear(Randn([3, 4], 3), w, b).GradFn);
        // a contiguous N-d input is flattened into one addmm and viewed back (PyTorch's _flatten_nd_linear)
        Assert.Equal("ViewBackward0", F.Linear(Randn([2, 3, 4], 4), w, b).GradFn);
        // one that is not contiguous takes matmul + add
        Assert.Equal("AddBackward0", F.Linear(Randn([3, 2, 4], 5).Transpose(0, 1), w, b).GradFn);
        Assert.Equal("MmBackward0", F.Linear(Randn([3, 4], 6), w).GradFn);
    }

    [Fact]
    public void GradCheck_EveryFusedLayout()
    {
        // row-major input, a transposed (column-major) one, a contiguous 3-D one, and a bias that is a narrowed view
        GradCheck.Check(xs => F.Linear(xs[0], xs[1], xs[2]), [TestUtil.Leaf([6, 4], 1), TestUtil.Leaf([5, 4], 2), TestUtil.Leaf([5], 3)]);
        GradCheck.Check(xs => F.Linear(xs[0].T, xs[1], xs[2]), [TestUtil.Leaf([4, 6], 4), TestUtil.Leaf([5, 4], 5), TestUtil.Leaf([5], 6)]);
        GradCheck.Check(xs => F.Linear(xs[0], xs[1], xs[2]), [TestUtil.Leaf([2, 3, 4], 7), TestUtil.Leaf([5, 4], 8), TestUtil.Leaf([5], 9)]);
        GradCheck.Check(xs => F.Linear(xs[0], xs[1].Narrow(0, 2, 5), xs[2].Narrow(0, 2, 5)),
            [TestUtil.Leaf([6, 4], 10), TestUtil.Leaf([9, 4], 11), TestUtil.Leaf([9], 12)]);
    }

    [Fact]
    public void EmptyBatch_GivesEmptyOutput()
    {
        var y = F.Linear(Torch.Zeros(0, 4), Torch.Ones(3, 4), Torch.Ones(3));
        Assert.Equal(new Shape(0, 3), y.Shape);
        var z = F.Linear(Torch.Zeros(2, 0, 4), Torch.Ones(3, 4), Torch.Ones(3));
        Assert.Equal(new Shape(2, 0, 3), z.Shape);
    }
}
