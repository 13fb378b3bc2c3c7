using Ember.Autograd;
using Ember.Tests.Reference.Ops;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Ops;

/// <summary>
/// einsum with a label repeated within one operand ("ii->i", "ii", "bii->bi", "iij->j") and torch.diagonal, against
/// libtorch (Reference/Ops/einsum_diagonal.oracle.csx), float64 gradcheck and gradgradcheck.
/// </summary>
public class EinsumDiagonalTests
{
    static Tensor[] One(Tensor t) => [t];

    // the same list as einsum_diagonal.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["einsum_ii_i"] = (() => [In([4, 4], 0.9)], a => One(Torch.Einsum("ii->i", a[0]))),
        ["einsum_trace"] = (() => [In([4, 4], 0.9)], a => One(Torch.Einsum("ii", a[0]))),
        ["einsum_bii_bi"] = (() => [In([2, 3, 3], 0.7)], a => One(Torch.Einsum("bii->bi", a[0]))),
        ["einsum_bii_implicit"] = (() => [In([2, 3, 3], 0.7)], a => One(Torch.Einsum("bii", a[0]))),
        ["einsum_iij_j"] = (() => [In([3, 3, 4], 0.8)], a => One(Torch.Einsum("iij->j", a[0]))),
        ["einsum_iji_j"] = (() => [In([3, 4, 3], 0.8)], a => One(Torch.Einsum("iji->j", a[0]))),
        ["einsum_iii_i"] = (() => [In([3, 3, 3], 1.1)], a => One(Torch.Einsum("iii->i", a[0]))),
        ["einsum_ij_jj_i"] = (() => [In([3, 4], 0.9), In([4, 4], 1.3)], a => One(Torch.Einsum("ij,jj->i", a[0], a[1]))),
        ["einsum_ellipsis_ii"] = (() => [In([2, 3, 3], 0.6)], a => One(Torch.Einsum("...ii->...i", a[0]))),
        ["einsum_ii_ij_j"] = (() => [In([3, 3], 0.5), In([3, 5], 1.2)], a => One(Torch.Einsum("ii,ij->j", a[0], a[1]))),
        ["diagonal_offset_up"] = (() => [In([3, 5], 0.9)], a => One(a[0].Diagonal(1, 0, 1))),
        ["diagonal_offset_down_dims12"] = (() => [In([2, 4, 3], 0.9)], a => One(Torch.Diagonal(a[0], -1, 1, 2))),
        ["diagonal_dims20"] = (() => [In([3, 2, 4], 0.9)], a => One(a[0].Diagonal(0, 2, 0))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(EinsumDiagonalReference.Cases[name], make(), f);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(EinsumDiagonalReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Passes_float64_gradcheck_and_gradgradcheck(string name)
    {
        var (make, f) = Cases[name];
        // squared, so the second derivative is not identically zero and the diagonal's double backward is exercised
        GradCheck.Check(a => (f(a)[0] * f(a)[0]).Sum(), make());
        GradCheck.CheckSecondOrder(a => (f(a)[0] * f(a)[0]).Sum(), make());
    }

    [Fact]
    public void Diagonal_is_a_view_and_names_its_backward_as_PyTorch()
    {
        var x = In([3, 3], 0.4);
        var d = x.Diagonal();
        Assert.Equal("DiagonalBackward0", d.GradFn);
        using (Torch.NoGrad()) x.Detach().FillInPlace(2.0);
        TestUtil.Close([2.0, 2, 2], d, 0, 0);  // shares storage with x
        Assert.Equal(new Shape(0), Torch.Zeros(2, 3).Diagonal(3).Shape);
        Assert.Contains("diagonal: dim1 and dim2 cannot be identical",
            Assert.Throws<ArgumentException>(() => Torch.Zeros(2, 2).Diagonal(0, 1, -1)).Message);
    }
}
