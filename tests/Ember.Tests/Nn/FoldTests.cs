using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn;

/// <summary>F.Unfold / F.Fold and the layers against libtorch (Reference/Nn/fold.oracle.csx), gradcheck and errors.</summary>
public class FoldTests
{
    static Tensor In2(int[] shape, double a) => In(shape, a, scale: 2);
    static Tensor[] One(Tensor t) => [t];

    // the same list as fold.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["unfold_square"] = (() => [In2([2, 3, 5, 5], 0.9)], a => One(F.Unfold(a[0], 2))),
        ["unfold_all_arguments"] = (() => [In2([1, 2, 6, 7], 1.3)], a => One(F.Unfold(a[0], (2, 3), dilation: (2, 1), padding: (1, 2), stride: (2, 1)))),
        ["unfold_stride_padding"] = (() => [In2([2, 1, 5, 4], 0.7)], a => One(F.Unfold(a[0], 3, padding: 1, stride: 2))),
        ["fold_square"] = (() => [In2([2, 12, 16], 0.9)], a => One(F.Fold(a[0], 5, 2))),
        ["fold_all_arguments"] = (() => [In2([1, 12, 27], 1.3)], a => One(F.Fold(a[0], (6, 7), (2, 3), dilation: (2, 1), padding: (1, 2), stride: (2, 1)))),
        ["fold_stride_padding"] = (() => [In2([2, 9, 6], 0.7)], a => One(F.Fold(a[0], (5, 4), (3, 3), padding: (1, 1), stride: (2, 2)))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(FoldReference.Cases[name], make(), f);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(FoldReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Fact]
    public void Gradcheck_first_and_second_order()
    {
        var x = TestUtil.Leaf([1, 2, 5, 4], 7);
        GradCheck.Check(a => F.Unfold(a[0], (2, 3), (1, 1), (1, 0), (2, 1)), [x]);
        GradCheck.CheckSecondOrder(a => F.Unfold(a[0], 2).Square().Sum(), [x]);
        var cols = TestUtil.Leaf([1, 8, 15], 8);
        GradCheck.Check(a => F.Fold(a[0], (4, 5), (2, 2), padding: (1, 1), stride: (1, 2)), [cols]);
    }

    [Fact]
    public void Unfold_then_matmul_is_a_convolution_and_fold_of_unfold_counts_overlaps()
    {
        var x = Torch.Randn([2, 3, 6, 5], DType.Float64, new Generator(1));
        var w = Torch.Randn([4, 3, 3, 3], DType.Float64, new Generator(2));
        var viaUnfold = w.Reshape(4, -1).MatMul(F.Unfold(x, 3, padding: 1)).Reshape(2, 4, 6, 5);
        TestUtil.Close(F.Conv2d(x, w, padding: 1), viaUnfold, 1e-12, 1e-12);
        // fold(unfold(1)) gives how many blocks cover each pixel: 1 in a corner, 4 in the middle for k = 2, stride 1
        var ones = Torch.Ones([1, 1, 3, 3], DType.Float64);
        Assert.Equal([1.0, 2, 1, 2, 4, 2, 1, 2, 1], F.Fold(F.Unfold(ones, 2), 3, 2).ToArray<double>());
    }

    [Fact]
    public void Unbatched_float32_and_the_layers_agree_with_the_functional_form()
    {
        var x = Torch.Randn([3, 5, 5], DType.Float32, new Generator(3));
        var cols = new Unfold(3, padding: 1).Forward(x);
        Assert.Equal(new Shape(27, 25), cols.Shape);
        TestUtil.Close(F.Unfold(x.Unsqueeze(0), 3, padding: 1).Squeeze(0), cols, 0, 0);
        var back = new Fold((5, 5), (3, 3), padding: (1, 1)).Forward(cols);
        Assert.Equal(new Shape(3, 5, 5), back.Shape);
        TestUtil.Close(F.Fold(cols.Unsqueeze(0), 5, 3, padding: 1).Squeeze(0), back, 0, 0);
    }

    [Fact]
    public void Errors_name_the_op_and_the_sizes()
    {
        Assert.Contains("fold: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=5 and kernel_size=(2, 2)",
            Assert.Throws<ArgumentException>(() => F.Fold(Torch.Zeros(1, 5, 4), 3, 2)).Message);
        Assert.Contains("expected size of input's dimension 2 to match the calculated number of sliding blocks 2 * 2 = 4, but got input.size(2)=5",
            Assert.Throws<ArgumentException>(() => F.Fold(Torch.Zeros(1, 4, 5), 3, 2)).Message);
        Assert.Contains("unfold: expected a 3-D (unbatched) or 4-D (batched) input, got shape [2, 2]",
            Assert.Throws<ArgumentException>(() => F.Unfold(Torch.Zeros(2, 2), 2)).Message);
        Assert.Contains("does not fit the padded input 2x2",
            Assert.Throws<ArgumentException>(() => F.Unfold(Torch.Zeros(1, 1, 2, 2), 3)).Message);
    }
}
