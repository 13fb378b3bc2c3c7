using Ember.Autograd;
using Ember.Tests.Reference.Linalg;

namespace Ember.Tests.Ops;

/// <summary>
/// Torch.Linalg's qr modes, eigh/eigvalsh, pinv and lstsq against libtorch (Reference/Linalg/linalg_spectral.oracle.csx),
/// float64 gradcheck of each differentiable case, and the non-differentiable modes' errors.
/// </summary>
public class LinalgSpectralTests
{
    /// <summary>The oracle's inputs (as the other linalg oracle's).</summary>
    static Tensor In(int[] shape, double a) => TorchLinalgTests.In(shape, a);

    static Tensor Fixed(int[] shape, double a) => In(shape, a).Detach();
    static Tensor Sym(Tensor x) => x + x.MT;
    // eigenvectors are unique up to sign: this form is the same for either sign (and so is its gradient)
    static Tensor SignFixed(Tensor v) => v * v.Sum(-2, keepDim: true).Sign();
    static Tensor[] Pair((Tensor, Tensor) p) => [p.Item1, p.Item2];
    static Tensor[] Four((Tensor, Tensor, Tensor, Tensor) p) => [p.Item1, p.Item2, p.Item3, p.Item4];
    static Tensor[] Eigh(Tensor a, bool upper = false) { var (l, v) = Torch.Linalg.Eigh(a, upper); return [l, SignFixed(v)]; }

    // the same list as linalg_spectral.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["qr_complete_tall"] = (() => [Fixed([5, 3], 0.9)], a => Pair(Torch.Linalg.Qr(a[0], QrMode.Complete))),
        ["qr_complete_wide"] = (() => [In([3, 5], 0.9)], a => Pair(Torch.Linalg.Qr(a[0], QrMode.Complete))),
        ["qr_complete_batched"] = (() => [Fixed([2, 4, 2], 0.7)], a => Pair(Torch.Linalg.Qr(a[0], QrMode.Complete))),
        ["qr_r"] = (() => [Fixed([5, 3], 0.9)], a => Pair(Torch.Linalg.Qr(a[0], QrMode.R))),
        ["eigh"] = (() => [In([4, 4], 0.9)], a => Eigh(Sym(a[0]))),
        ["eigh_upper"] = (() => [In([4, 4], 1.3)], a => Eigh(a[0], upper: true)),
        ["eigh_lower_nonsymmetric"] = (() => [In([3, 3], 1.7)], a => Eigh(a[0])),
        ["eigh_batched"] = (() => [In([2, 3, 3], 0.8)], a => Eigh(Sym(a[0]))),
        ["eigvalsh"] = (() => [In([2, 4, 4], 0.6)], a => [Torch.Linalg.Eigvalsh(Sym(a[0]))]),
        ["pinv_tall"] = (() => [In([5, 3], 0.9)], a => [Torch.Linalg.Pinv(a[0])]),
        ["pinv_wide"] = (() => [In([3, 4], 0.7)], a => [Torch.Linalg.Pinv(a[0])]),
        ["pinv_batched"] = (() => [In([2, 3, 2], 1.1)], a => [Torch.Linalg.Pinv(a[0])]),
        ["pinv_hermitian"] = (() => [In([4, 4], 0.9)], a => [Torch.Linalg.Pinv(Sym(a[0]), hermitian: true)]),
        ["pinv_rank_one"] = (() => [In([4, 1], 0.9), In([1, 3], 1.3)], a => [Torch.Linalg.Pinv(a[0].MatMul(a[1]))]),
        ["pinv_atol"] = (() => [Fixed([4, 3], 0.5)], a => [Torch.Linalg.Pinv(a[0], atol: 1.0)]),
        ["lstsq_tall"] = (() => [In([6, 3], 0.9), In([6, 2], 1.3)], a => Four(Torch.Linalg.Lstsq(a[0], a[1]))),
        ["lstsq_wide"] = (() => [In([3, 5], 0.9), In([3, 2], 1.3)], a => Four(Torch.Linalg.Lstsq(a[0], a[1]))),
        ["lstsq_vector"] = (() => [In([5, 3], 0.7), In([5], 1.1)], a => Four(Torch.Linalg.Lstsq(a[0], a[1]))),
        ["lstsq_batched"] = (() => [In([2, 4, 3], 0.9), In([2, 4, 1], 1.3)], a => Four(Torch.Linalg.Lstsq(a[0], a[1]))),
        ["lstsq_rank_deficient"] = (() => [Fixed([4, 1], 0.9), Fixed([1, 3], 1.3), Fixed([4, 2], 0.4)],
            a => Four(Torch.Linalg.Lstsq(a[0].MatMul(a[1]), a[2]))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        OracleHarness.Check(LinalgSpectralReference.Cases[name], make(), f, rtol: 1e-8, atol: 1e-10);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(LinalgSpectralReference.Cases.Keys.Order(), Cases.Keys.Order());

    // eigh of a non-symmetric input reads one triangle, yet its gradient is PyTorch's symmetric one, which finite
    // differences of the unread triangle cannot reproduce (PyTorch's own gradcheck symmetrizes the input too)
    public static TheoryData<string> DifferentiableCases() => [.. Cases.Keys.Where(k =>
        LinalgSpectralReference.Cases[k].Grads.Any(g => g is not null) && k is not ("eigh_upper" or "eigh_lower_nonsymmetric"))];

    [Theory]
    [MemberData(nameof(DifferentiableCases))]
    public void Passes_float64_gradcheck(string name)
    {
        var (make, f) = Cases[name];
        var inputs = make();
        // Σ_k Σ_i out_k[i]·w_i, the oracle's loss; the floating outputs only (lstsq's rank is an integer)
        GradCheck.Check(a =>
        {
            Tensor? loss = null;
            foreach (var o in f(a))
                if (o.DType == DType.Float64 && o.NumEl > 0)
                {
                    var term = (o * (Torch.Arange(o.NumEl, DType.Float64) * 0.7 + 0.1).Cos().Reshape(o.shape)).Sum();
                    loss = loss is null ? term : loss + term;
                }
            return loss!;
        }, inputs);
    }

    [Theory]
    [InlineData("eigh")]
    [InlineData("pinv_tall")]
    [InlineData("pinv_wide")]
    [InlineData("lstsq_tall")]
    public void Backward_is_differentiable_again(string name)
    {
        var (make, f) = Cases[name];
        GradCheck.CheckSecondOrder(a => (f(a)[0] * f(a)[0]).Sum(), make());
    }

    [Fact]
    public void Eigh_reconstructs_the_matrix_with_orthonormal_vectors_and_pinv_meets_the_Penrose_conditions()
    {
        var a = Sym(Fixed([5, 5], 0.37));
        var (l, v) = Torch.Linalg.Eigh(a);
        TestUtil.Close(a, v.MatMul(LinalgBatchDiag(l)).MatMul(v.MT), 1e-12, 1e-12);
        TestUtil.Close(Torch.Eye(5, dtype: DType.Float64), v.MT.MatMul(v), 1e-12, 1e-12);
        var x = Fixed([4, 6], 0.8);
        var p = Torch.Linalg.Pinv(x);
        TestUtil.Close(x, x.MatMul(p).MatMul(x), 1e-12, 1e-12);
        TestUtil.Close(p, p.MatMul(x).MatMul(p), 1e-12, 1e-12);
    }

    static Tensor LinalgBatchDiag(Tensor l) => l.Unsqueeze(-1) * Torch.Eye(l.shape[^1], dtype: l.DType);

    [Fact]
    public void Qr_modes_without_a_derivative_throw_PyTorchs_message_in_backward()
    {
        var tall = In([5, 3], 0.9);
        var (q, r) = Torch.Linalg.Qr(tall, QrMode.R);
        Assert.Equal(new Shape(0), q.Shape);
        Assert.Contains("depends on Q, which is not computed when mode='r'", Assert.Throws<InvalidOperationException>(() => r.Sum().Backward()).Message);
        (q, r) = Torch.Linalg.Qr(In([5, 3], 0.9), QrMode.Complete);
        Assert.Contains("not differentiable when mode='complete' and nrows > ncols",
            Assert.Throws<InvalidOperationException>(() => (q.Sum() + r.Sum()).Backward()).Message);
    }

    [Fact]
    public void Eigh_float32_rounds_the_float64_result_and_errors_name_the_op()
    {
        var a = Sym(Fixed([3, 3], 0.6));
        var (l64, _) = Torch.Linalg.Eigh(a);
        var (l32, _) = Torch.Linalg.Eigh(a.To(DType.Float32));
        Assert.Equal(DType.Float32, l32.DType);
        TestUtil.Close(l64, l32.To(DType.Float64), 1e-6, 1e-6);
        Assert.Contains("linalg.eigh: A must be batches of square matrices",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Eigh(Torch.Zeros(2, 3))).Message);
        Assert.Contains("linalg.lstsq: input.size(-2) should match other.size(-2)",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Lstsq(Torch.Zeros(3, 2), Torch.Zeros(4, 1))).Message);
    }
}
