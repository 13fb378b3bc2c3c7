namespace Ember.Tests.Tensors;

/// <summary>
/// ToString like Python's str(tensor). The expected strings follow torch/_tensor_str.py (PyTorch 2.x) by hand:
/// TorchSharp's ToString has its own styles and is not Python's printer, so it cannot serve as the oracle here.
/// Rules used: the format comes from the non-zero finite values; integral floats print "1." unless max/min &gt; 1000 or
/// max &gt; 1e8 (then %.4e); other floats print %.4f unless max/min &gt; 1000, max &gt; 1e8 or min &lt; 1e-4 (then %.4e);
/// elements are right-aligned to the widest; floor((80 − indent)/(width + 2)) per line; over 1000 elements only 3 edge
/// items per dim with " ..." (vectors) or "..." (rows); suffixes wrap past 80 columns.
/// </summary>
public class TensorFormatterTests
{
    [Theory]
    [InlineData(new double[] { 1, 2, 3 }, "tensor([1., 2., 3.])")]
    [InlineData(new double[] { 0.1, 0.2 }, "tensor([0.1000, 0.2000])")]
    [InlineData(new double[] { -1.5, 2.25 }, "tensor([-1.5000,  2.2500])")]
    [InlineData(new double[] { 1e-5, 1 }, "tensor([1.0000e-05, 1.0000e+00])")]
    [InlineData(new double[] { -1e-5, 1 }, "tensor([-1.0000e-05,  1.0000e+00])")]
    [InlineData(new double[] { 1, 10000 }, "tensor([1.0000e+00, 1.0000e+04])")]
    [InlineData(new double[] { 1e9 }, "tensor([1.0000e+09])")]
    [InlineData(new double[] { 0, 0 }, "tensor([0., 0.])")]
    [InlineData(new double[] { 0, 0.5 }, "tensor([0.0000, 0.5000])")]
    [InlineData(new double[] { 1, double.NegativeInfinity }, "tensor([1., -inf])")]
    [InlineData(new double[] { double.NaN, 1.5 }, "tensor([   nan, 1.5000])")]
    [InlineData(new double[] { 0, double.PositiveInfinity, double.NaN }, "tensor([0., inf, nan])")]
    [InlineData(new double[] { 100, -3 }, "tensor([100.,  -3.])")]
    public void Float32_vectors(double[] values, string expected)
        => Assert.Equal(expected, Torch.Tensor(values.Select(v => (float)v).ToArray()).ToString());

    [Fact]
    public void Scalars_ints_bools_and_empty()
    {
        Assert.Equal("tensor(3.5000)", Torch.Scalar(3.5).ToString());
        Assert.Equal("tensor(2.)", Torch.Scalar(2).ToString());
        Assert.Equal("tensor(5)", Torch.Scalar(5, DType.Int64).ToString());
        Assert.Equal("tensor(True)", Torch.Scalar(1, DType.Bool).ToString());
        Assert.Equal("tensor([  1, -20,   3])", Torch.Tensor(1L, -20L, 3L).ToString());
        Assert.Equal("tensor([ True, False])", Torch.Tensor(true, false).ToString());
        Assert.Equal("tensor([])", Torch.Zeros(0).ToString());
        Assert.Equal("tensor([], size=(2, 0))", Torch.Zeros(2, 0).ToString());
        Assert.Equal("tensor([], dtype=torch.int64)", Torch.Arange(0).ToString());
        Assert.Equal("tensor([], dtype=torch.bool)", Torch.Zeros([0], DType.Bool).ToString());
        Assert.Equal("tensor([], size=(0, 3), dtype=torch.float64)", Torch.Zeros([0, 3], DType.Float64).ToString());
    }

    [Fact]
    public void Float64_and_autograd_suffixes()
    {
        Assert.Equal("tensor([1.5000, 2.0000], dtype=torch.float64)", Torch.Tensor(1.5, 2.0).ToString());
        var x = Torch.Tensor(1f, 2f).RequiresGradInPlace();
        Assert.Equal("tensor([1., 2.], requires_grad=True)", x.ToString());
        Assert.Equal("tensor([2., 4.], grad_fn=<MulBackward0>)", (x * 2.0).ToString());
        Assert.Equal("tensor(3., grad_fn=<SumBackward0>)", x.Sum().ToString());   // PyTorch: sum() of all elements is SumBackward0
        Assert.Equal("tensor([2., 4.])", (x * 2.0).Detach().ToString());
        var d = Torch.Tensor(1.0, 2.0).RequiresGradInPlace();
        Assert.Equal("tensor([1., 2.], dtype=torch.float64, requires_grad=True)", d.ToString());
    }

    [Fact]
    public void Matrices_and_3d()
    {
        Assert.Equal("tensor([[1., 2.],\n        [3., 4.]])", Torch.Tensor(new float[,] { { 1, 2 }, { 3, 4 } }).ToString());
        Assert.Equal("tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])", Torch.Arange(8.0).Reshape(2, 2, 2).ToString());
        Assert.Equal("tensor([[ 0.5000, -1.0000]])", Torch.Tensor(new float[,] { { 0.5f, -1f } }).ToString());
    }

    [Fact]
    public void Long_rows_wrap_at_80_columns()
    {
        Assert.Equal("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])",
            Torch.Arange(20.0).ToString());
        Assert.Equal("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n       dtype=torch.float64)",
            Torch.Arange(14, DType.Float64).ToString());
    }

    [Fact]
    public void Over_1000_elements_are_summarized()
    {
        Assert.Equal("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
            Torch.Arange(2000.0).ToString());
        Assert.Equal("tensor([   0,    1,    2,  ..., 1997, 1998, 1999])", Torch.Arange(2000).ToString());
        Assert.Equal("tensor([[   0,    1],\n        [   2,    3],\n        [   4,    5],\n        ...,\n        [1994, 1995],\n        [1996, 1997],\n        [1998, 1999]])",
            Torch.Arange(2000).Reshape(1000, 2).ToString());
        Assert.Equal("tensor([[   0,    1,    2,  ...,  997,  998,  999],\n        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])",
            Torch.Arange(2000).Reshape(2, 1000).ToString());
        Assert.Equal("tensor([1000., 1000., 1000.,  ..., 1000., 1000., 1000.])", Torch.Full([1001], 1000).ToString());
    }

    [Fact]
    public void Seed_notes_softmax_prints_like_PyTorch()
    {
        var logits = Torch.Tensor(new float[,] { { 0.1f, 0.2f, 0.9f }, { 0.8f, 0.3f, 0.2f }, { 0.2f, 0.5f, 0.3f } }).RequiresGradInPlace();
        Assert.Equal("tensor([[0.2309, 0.2552, 0.5139],\n        [0.4640, 0.2814, 0.2546],\n        [0.2894, 0.3907, 0.3199]], grad_fn=<SoftmaxBackward0>)",
            logits.Softmax(1).ToString());
    }
}
