using Ember.Autograd;
using Ember.Tests.Reference.Ops;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Ops;

/// <summary>
/// einsum, median/quantile/mode and bincount/histc against libtorch values (Reference/Ops/parity_ops2.oracle.csx) and
/// float64 gradcheck.
/// </summary>
public class EinsumAndStatisticsTests
{
    static Tensor[] One(Tensor t) => [t];
    static readonly double[] Histo = [1.0, 2, 1, 4, 2.5, 0, 3.999, 4.0, -1];

    // the same list as parity_ops2.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["einsum_matmul"] = (() => [In([3, 4], 0.9), In([4, 5], 1.3)], a => One(Torch.Einsum("ij,jk->ik", a[0], a[1]))),
        ["einsum_batched"] = (() => [In([2, 3, 4], 0.9), In([2, 4, 5], 1.3)], a => One(Torch.Einsum("bij,bjk->bik", a[0], a[1]))),
        ["einsum_attention"] = (() => [In([2, 2, 3, 4], 0.9), In([2, 2, 5, 4], 1.3)], a => One(Torch.Einsum("bhqd,bhkd->bhqk", a[0], a[1]))),
        ["einsum_transpose"] = (() => [In([3, 4], 0.9)], a => One(Torch.Einsum("ij->ji", a[0]))),
        ["einsum_sum_dim"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Einsum("ijk->j", a[0]))),
        ["einsum_dot"] = (() => [In([5], 0.9), In([5], 1.3)], a => One(Torch.Einsum("i,i->", a[0], a[1]))),
        ["einsum_outer"] = (() => [In([3], 0.9), In([4], 1.3)], a => One(Torch.Einsum("i,j->ij", a[0], a[1]))),
        ["einsum_hadamard_implicit"] = (() => [In([3, 4], 0.9), In([3, 4], 1.3)], a => One(Torch.Einsum("ij,ij", a[0], a[1]))),
        ["einsum_implicit_matmul"] = (() => [In([3, 4], 0.9), In([4, 5], 1.3)], a => One(Torch.Einsum("ij,jk", a[0], a[1]))),
        ["einsum_three"] = (() => [In([2, 3], 0.9), In([3, 4], 1.3), In([4, 2], 0.5)], a => One(Torch.Einsum("ij,jk,kl->il", a[0], a[1], a[2]))),
        ["einsum_sum_one_side"] = (() => [In([2, 3], 0.9), In([3, 4], 1.3)], a => One(Torch.Einsum("ij,jk->k", a[0], a[1]))),
        ["einsum_ellipsis"] = (() => [In([2, 3, 4], 0.9), In([4, 5], 1.3)], a => One(Torch.Einsum("...j,jk->...k", a[0], a[1]))),
        ["median_all"] = (() => [Lit([3, 1, 2, 5, 2, 4], 6)], a => One(a[0].Median())),
        ["median_all_even_ties"] = (() => [Lit([3, 1, 2, 2, 5, 4, 2, 0], 2, 4)], a => One(a[0].Median())),
        ["median_rows"] = (() => [Lit([3, 1, 2, 5, 0, 4, 7, -1, 2, 2], 2, 5)], a => [a[0].Select(0, 0).Median(), a[0].Select(0, 1).Median()]),
        ["quantile_linear"] = (() => [In([2, 5], 0.9)], a => One(a[0].Quantile(Torch.Tensor(0.0, 0.3, 0.5, 1.0), 1))),
        ["quantile_all_scalar"] = (() => [In([3, 4], 0.9)], a => One(a[0].Quantile(0.75))),
        ["mode_dim"] = (() => [Lit([1, 2, 2, 3, 3, 0, 4, 4, 1, 1, 5, 5], 2, 6)], a => { var (v, i) = a[0].Mode(1); return [v, i]; }),
        ["bincount"] = (() => [], _ => One(Long([0, 1, 1, 3, 1, 0, 5], 7).Bincount())),
        ["bincount_weights_minlength"] = (() => [], _ => One(Long([0, 1, 1, 3], 4).Bincount(Torch.Tensor(0.5, 1.0, 0.25, 2.0), 6))),
        ["histc"] = (() => [], _ => One(Torch.Tensor(Histo).Histc(4, 0, 4))),
        ["histc_auto_range"] = (() => [], _ => One(Torch.Tensor(Histo).Histc(5))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(ParityOps2Reference.Cases[name], make(), f);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(ParityOps2Reference.Cases.Keys.Order(), Cases.Keys.Order());

    [Theory]
    [InlineData("ij,jk->ik")]
    [InlineData("bij,bjk->bik")]
    [InlineData("ij,jk,kl->il")]
    [InlineData("...j,jk->...k")]
    [InlineData("ij,jk->k")]
    public void Einsum_passes_float64_gradcheck(string equation)
    {
        var shapes = equation switch
        {
            "bij,bjk->bik" => new[] { new[] { 2, 3, 4 }, [2, 4, 2] },
            "ij,jk,kl->il" => [[2, 3], [3, 4], [4, 2]],
            "...j,jk->...k" => [[2, 3, 4], [4, 2]],
            _ => [[2, 3], [3, 4]],
        };
        var inputs = shapes.Select((s, i) => TestUtil.Leaf(s, 30 + i)).ToArray();
        GradCheck.Check(xs => Torch.Einsum(equation, xs), inputs);
        GradCheck.CheckSecondOrder(xs => Torch.Einsum(equation, xs).Square(), inputs);
    }

    [Fact]
    public void Einsum_broadcasts_size_one_dims_and_reports_bad_equations()
    {
        var a = Torch.Randn([1, 3, 4], DType.Float64, new Generator(1));
        var b = Torch.Randn([2, 4, 5], DType.Float64, new Generator(2));
        TestUtil.Close(a.Expand(2, 3, 4).Bmm(b), Torch.Einsum("bij,bjk->bik", a, b), 1e-12, 1e-12);
        Assert.Contains("einsum: subscript 'j' has size 4 in operand 1 but 3 elsewhere",
            Assert.Throws<ArgumentException>(() => Torch.Einsum("ij,jk", Torch.Zeros(2, 3), Torch.Zeros(4, 2))).Message);
        Assert.Contains("einsum: the subscripts \"ijk\" of operand 0 do not match its 2 dimensions",
            Assert.Throws<ArgumentException>(() => Torch.Einsum("ijk->i", Torch.Zeros(2, 3))).Message);
        Assert.Contains("einsum: subscript 'i' is repeated for operand 0 but the sizes don't match, 2 != 3",
            Assert.Throws<ArgumentException>(() => Torch.Einsum("ii->i", Torch.Zeros(2, 3))).Message);
        Assert.Contains("einsum: output subscript 'q' in \"ij->q\" does not appear in the inputs",
            Assert.Throws<ArgumentException>(() => Torch.Einsum("ij->q", Torch.Zeros(2, 2))).Message);
    }

    [Fact]
    public void Quantile_interpolations_and_median_dim_gradients()
    {
        var x = Torch.Tensor(4.0, 1.0, 3.0, 2.0);          // sorted 1 2 3 4, q = 0.5 sits between ranks 1 and 2
        Assert.Equal(2.5, x.Quantile(0.5).Item<double>());
        Assert.Equal(2.0, x.Quantile(0.5, interpolation: QuantileInterpolation.Lower).Item<double>());
        Assert.Equal(3.0, x.Quantile(0.5, interpolation: QuantileInterpolation.Higher).Item<double>());
        Assert.Equal(2.5, x.Quantile(0.5, interpolation: QuantileInterpolation.Midpoint).Item<double>());
        Assert.Equal(3.0, x.Quantile(0.5, interpolation: QuantileInterpolation.Nearest).Item<double>());   // rank 1.5 rounds to even 2
        Assert.Equal(1.0, x.Quantile(1.0 / 6, interpolation: QuantileInterpolation.Nearest).Item<double>()); // rank 0.5 rounds to even 0
        // median(dim) gives each row's lower median, the values libtorch's median() gives row by row
        var rows = Lit([3, 1, 2, 5, 0, 4, 7, -1, 2, 2], 2, 5);
        var (values, indices) = rows.Median(1);
        Assert.Equal([2.0, 2.0], values.ToArray<double>());
        Assert.Equal([2L, 4L], indices.ToArray<long>());   // the stable sort's middle element: in [4, 7, -1, 2, 2] the second 2
        Assert.Contains("quantile: q values must be in the range [0, 1], got 1.5", Assert.Throws<ArgumentException>(() => x.Quantile(1.5)).Message);
        var leaf = TestUtil.Leaf([3, 5], 40);
        GradCheck.Check(xs => xs[0].Median(1).Values, [leaf]);
        GradCheck.Check(xs => xs[0].Quantile(Torch.Tensor(0.1, 0.65), 1, keepDim: true), [leaf]);
        GradCheck.Check(xs => xs[0].Mode(0).Values, [leaf]);
    }
}
