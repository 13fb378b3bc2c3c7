using Ember.Autograd;
using Ember.Tests.Reference.Linalg;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Ops;

/// <summary>
/// Torch.Linalg (inv, det, slogdet, solve, cholesky, qr, svd, norms) against libtorch values
/// (Reference/Linalg/linalg.oracle.csx), float64 gradcheck, float32 and the errors.
/// </summary>
public class TorchLinalgTests
{
    /// <summary>The linalg oracles' inputs: sin(a·i + 0.3) + cos(0.31·i²), a float64 leaf (the sine alone makes rank-2 matrices).</summary>
    internal static Tensor In(int[] shape, double a)
    {
        int n = 1;
        foreach (var s in shape) n *= s;
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.Sin(a * i + 0.3) + Math.Cos(0.31 * i * i);
        return Torch.FromArray(v, shape).RequiresGradInPlace();
    }

    static Tensor I(int n) => Torch.Eye(n, dtype: DType.Float64);
    static Tensor Spd(Tensor x) => x.MatMul(x.MT) + I(x.shape[^1]);
    static Tensor Weighted(Tensor u, Tensor s, Tensor vh) => (u * Torch.Arange(1, s.shape[^1] + 1, 1, DType.Float64)).MatMul(vh);
    static Tensor[] One(Tensor t) => [t];
    static Tensor[] Pair((Tensor, Tensor) p) => [p.Item1, p.Item2];

    // the same list as linalg.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["inv"] = (() => [In([3, 3], 0.9)], a => One(Torch.Linalg.Inv(a[0] + 2 * I(3)))),
        ["inv_batched"] = (() => [In([2, 3, 3], 1.3)], a => One(Torch.Linalg.Inv(a[0] + 2 * I(3)))),
        ["det"] = (() => [In([3, 3], 0.9)], a => One(Torch.Linalg.Det(a[0] + I(3)))),
        ["det_batched"] = (() => [In([2, 2, 3, 3], 0.7)], a => One(Torch.Linalg.Det(a[0]))),
        ["det_singular"] = (() => [Lit([1, 2, 3, 2, 4, 6, 1, 0, 1], 3, 3)], a => One(Torch.Linalg.Det(a[0]))),
        ["slogdet"] = (() => [In([2, 3, 3], 1.1)], a => Pair(Torch.Linalg.Slogdet(a[0] - I(3)))),
        ["solve_matrix"] = (() => [In([3, 3], 0.9), In([3, 2], 1.7)], a => One(Torch.Linalg.Solve(a[0] + 2 * I(3), a[1]))),
        ["solve_vector"] = (() => [In([3, 3], 0.9), In([3], 1.7)], a => One(Torch.Linalg.Solve(a[0] + 2 * I(3), a[1]))),
        ["solve_batched_vectors"] = (() => [In([2, 3, 3], 0.9), In([2, 3], 1.7)], a => One(Torch.Linalg.Solve(a[0] + 2 * I(3), a[1]))),
        ["solve_broadcast"] = (() => [In([2, 3, 3], 0.9), In([3, 2], 1.7)], a => One(Torch.Linalg.Solve(a[0] + 2 * I(3), a[1]))),
        ["solve_right"] = (() => [In([3, 3], 0.9), In([2, 3], 1.7)], a => One(Torch.Linalg.Solve(a[0] + 2 * I(3), a[1], left: false))),
        ["cholesky"] = (() => [In([3, 3], 0.9)], a => One(Torch.Linalg.Cholesky(Spd(a[0])))),
        ["cholesky_upper_batched"] = (() => [In([2, 3, 3], 1.3)], a => One(Torch.Linalg.Cholesky(Spd(a[0]), upper: true))),
        ["qr_tall"] = (() => [In([4, 3], 0.9)], a => Pair(Torch.Linalg.Qr(a[0]))),
        ["qr_square"] = (() => [In([3, 3], 1.3)], a => Pair(Torch.Linalg.Qr(a[0]))),
        ["qr_wide"] = (() => [In([3, 5], 0.8)], a => Pair(Torch.Linalg.Qr(a[0]))),
        ["qr_batched"] = (() => [In([2, 4, 2], 1.1)], a => Pair(Torch.Linalg.Qr(a[0]))),
        ["qr_r_only"] = (() => [In([4, 3], 0.9)], a => One(Torch.Linalg.Qr(a[0]).R)),
        ["svd_square"] = (() => [In([3, 3], 0.9)], a => { var (u, s, vh) = Torch.Linalg.Svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh)]; }),
        ["svd_tall"] = (() => [In([4, 3], 1.3)], a => { var (u, s, vh) = Torch.Linalg.Svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh), u.MatMul(u.MT)]; }),
        ["svd_wide"] = (() => [In([3, 5], 0.7)], a => { var (u, s, vh) = Torch.Linalg.Svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh), vh.MT.MatMul(vh)]; }),
        ["svd_batched"] = (() => [In([2, 3, 2], 1.1)], a => { var (u, s, vh) = Torch.Linalg.Svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh)]; }),
        ["svd_full_values"] = (() => [In([4, 2], 0.9)], a => One(Torch.Linalg.Svd(a[0]).S)),
        ["svdvals"] = (() => [In([3, 4], 0.6)], a => One(Torch.Linalg.Svdvals(a[0]))),
        ["vector_norm_2"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.VectorNorm(a[0]))),
        ["vector_norm_1_dim"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.VectorNorm(a[0], 1, [1]))),
        ["vector_norm_inf_keepdim"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.VectorNorm(a[0], double.PositiveInfinity, [0], keepDim: true))),
        ["vector_norm_neg_inf"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.VectorNorm(a[0], double.NegativeInfinity, [1]))),
        ["vector_norm_3"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.VectorNorm(a[0], 3, [0, 2]))),
        ["vector_norm_0"] = (() => [Lit([1, 0, 2, 0, 0, 3], 2, 3)], a => One(Torch.Linalg.VectorNorm(a[0], 0, [1]))),
        ["matrix_norm_fro"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0]))),
        ["matrix_norm_nuc"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], MatrixNormOrd.Nuc))),
        ["matrix_norm_1"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], 1))),
        ["matrix_norm_neg_1"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], -1))),
        ["matrix_norm_inf"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], double.PositiveInfinity))),
        ["matrix_norm_neg_inf"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], double.NegativeInfinity))),
        ["matrix_norm_2"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], 2))),
        ["matrix_norm_neg_2"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], -2))),
        ["matrix_norm_dims_keepdim"] = (() => [In([3, 2, 4], 0.9)], a => One(Torch.Linalg.MatrixNorm(a[0], 1, [2, 0], keepDim: true))),
        ["norm_default"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.Norm(a[0]))),
        ["norm_matrix_ord"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.Norm(a[0], double.PositiveInfinity))),
        ["norm_vector_ord_dim"] = (() => [In([3, 4], 0.9)], a => One(Torch.Linalg.Norm(a[0], 3, [1]))),
        ["norm_fro_dims"] = (() => [In([2, 3, 4], 0.9)], a => One(Torch.Linalg.Norm(a[0], MatrixNormOrd.Fro, [0, 2]))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        // libtorch's LU leaves −6.7e−16 where an exact zero pivot gives det 0 here; the cofactor gradient agrees
        Check(LinalgReference.Cases[name], make(), f, rtol: 1e-9, atol: 1e-11);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(LinalgReference.Cases.Keys.Order(), Cases.Keys.Order());

    public static TheoryData<string> GradCheckCases() =>
        ["inv", "det", "slogdet", "solve", "solve_right", "cholesky", "qr_tall", "qr_wide", "svd_tall", "svd_wide", "svd_full", "nuc", "matrix_2"];

    [Theory]
    [MemberData(nameof(GradCheckCases))]
    public void Passes_float64_gradcheck_and_second_order(string name)
    {
        var a3 = In([2, 3, 3], 0.9).Detach().RequiresGradInPlace();
        Func<Tensor[], Tensor> f = name switch
        {
            "inv" => x => Torch.Linalg.Inv(x[0] + 2 * I(3)),
            "det" => x => Torch.Linalg.Det(x[0]),
            "slogdet" => x => Torch.Linalg.Slogdet(x[0] + I(3)).LogAbsDet,
            "solve" => x => Torch.Linalg.Solve(x[0] + 2 * I(3), x[0].Narrow(-1, 0, 2).Square()),
            "solve_right" => x => Torch.Linalg.Solve(x[0] + 2 * I(3), x[0].Narrow(-2, 0, 2).Exp(), left: false),
            "cholesky" => x => Torch.Linalg.Cholesky(Spd(x[0])),
            "qr_tall" => x => { var (q, r) = Torch.Linalg.Qr(x[0].Reshape(3, 6).MT); return q.Sum() + (r * r).Sum(); },
            "qr_wide" => x => { var (q, r) = Torch.Linalg.Qr(x[0].Reshape(3, 6)); return q.Square().Cos().Sum() + r.Sum(); },
            "svd_tall" => x => { var (u, s, vh) = Torch.Linalg.Svd(x[0].Reshape(6, 3), fullMatrices: false); return s.Sum() + Weighted(u, s, vh).Square().Sum(); },
            "svd_wide" => x => { var (u, s, vh) = Torch.Linalg.Svd(x[0].Reshape(3, 6), fullMatrices: false); return Weighted(u, s, vh).Sin().Sum() + u.MatMul(u.MT).Sum(); },
            "svd_full" => x => { var (u, s, vh) = Torch.Linalg.Svd(x[0].Reshape(6, 3)); return u.Narrow(-1, 0, 3).MatMul(vh).Cos().Sum(); },
            "nuc" => x => Torch.Linalg.MatrixNorm(x[0], MatrixNormOrd.Nuc),
            "matrix_2" => x => Torch.Linalg.MatrixNorm(x[0], -2),
            _ => throw new ArgumentException(name),
        };
        GradCheck.Check(f, [a3]);
        if (name is not ("svd_full" or "nuc" or "matrix_2")) GradCheck.CheckSecondOrder(x => f(x).Square().Sum(), [a3]);
    }

    [Fact]
    public void Factorizations_reconstruct_their_input_in_float32_and_float64()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 2e-5 : 1e-12;
            var a = In([2, 4, 3], 0.9).Detach().To(dtype);
            var (q, r) = Torch.Linalg.Qr(a);
            Assert.Equal(dtype, q.DType);
            TestUtil.Close(a, q.MatMul(r), tol, tol);
            TestUtil.Close(Torch.Eye(3, dtype: dtype).Expand(2, 3, 3), q.MT.MatMul(q), tol, tol);
            var (u, s, vh) = Torch.Linalg.Svd(a);                  // full: U is 4×4
            Assert.Equal(new Shape(2, 4, 4), u.Shape);
            TestUtil.Close(Torch.Eye(4, dtype: dtype).Expand(2, 4, 4), u.MT.MatMul(u), tol, tol);
            TestUtil.Close(a, (u.Narrow(-1, 0, 3) * s.Unsqueeze(-2)).MatMul(vh), tol, tol);
            var spd = Spd(In([3, 3], 1.3).Detach()).To(dtype);
            var l = Torch.Linalg.Cholesky(spd);
            TestUtil.Close(spd, l.MatMul(l.MT), tol, tol);
            var sq = (In([3, 3], 0.9).Detach() + 2 * I(3)).To(dtype);
            TestUtil.Close(Torch.Eye(3, dtype: dtype), sq.MatMul(Torch.Linalg.Inv(sq)), tol, tol);
            var f64 = Torch.Linalg.Det(sq.To(DType.Float64)).Item<double>();
            Assert.Equal(f64, Torch.Linalg.Det(sq).Item(), dtype == DType.Float32 ? 1e-4 : 1e-12);
        }
    }

    [Fact]
    public void Singular_rank_deficient_svd_completes_an_orthonormal_basis()
    {
        var a = Torch.FromArray(new double[] { 1, 2, 2, 4, 3, 6 }, [3, 2]);        // rank 1
        var (u, s, vh) = Torch.Linalg.Svd(a, fullMatrices: true);
        Assert.Equal(0.0, s[1].Item(), 1e-12);
        TestUtil.Close(Torch.Eye(3, dtype: DType.Float64), u.MT.MatMul(u), 1e-12, 1e-12);
        TestUtil.Close(Torch.Eye(2, dtype: DType.Float64), vh.MatMul(vh.MT), 1e-12, 1e-12);
        // svdvals' gradient stays finite with a zero singular value: U·diag(g)·Vh
        var leaf = a.Clone().RequiresGradInPlace();
        Torch.Linalg.Svdvals(leaf).Sum().Backward();
        Assert.True(leaf.Grad!.IsFinite().ToArray<bool>().All(b => b));
    }

    [Fact]
    public void Errors_name_the_op_and_the_problem()
    {
        Assert.Contains("linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Inv(Torch.Zeros(2, 3))).Message);
        var singular = Torch.FromArray(new double[] { 1, 2, 2, 4 }, [2, 2]);
        Assert.Contains("linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular.",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Inv(singular)).Message);
        Assert.Contains("linalg.inv: (Batch element 1): The diagonal element 2 is zero",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Inv(Torch.Stack([Torch.Eye(2, dtype: DType.Float64), singular]))).Message);
        Assert.Contains("linalg.solve: The solver failed because the input matrix is singular.",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Solve(singular, Torch.Ones([2], DType.Float64))).Message);
        Assert.Contains("linalg.solve: Incompatible shapes of A and B for the equation AX = B (2x2 and 3x1)",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Solve(Torch.Eye(2), Torch.Ones(3, 1))).Message);
        Assert.Contains("linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order 2 is not positive-definite).",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Cholesky(singular)).Message);
        Assert.Contains("linalg.det: Expected a floating point tensor as input. Got torch.int64",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Det(Torch.FromArray(new long[] { 1, 0, 0, 1 }, [2, 2]))).Message);
        Assert.Contains("linalg.qr: The input tensor A must have at least 2 dimensions",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Qr(Torch.Ones(3))).Message);
        Assert.Contains("linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D.",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.Norm(Torch.Ones(2, 2, 2), 1)).Message);
        Assert.Contains("linalg.matrix_norm: Order 3 not supported",
            Assert.Throws<ArgumentException>(() => Torch.Linalg.MatrixNorm(Torch.Ones(2, 2), 3)).Message);
    }
}
