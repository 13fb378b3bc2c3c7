using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Tests.Reference.Ops;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Ops;

/// <summary>
/// The ops issue 22 lists (cumsum/cumprod, sort/topk ties, unbind/chunk/split, repeat_interleave, take_along_dim,
/// meshgrid, asin/acos/atan2, remainder/fmod, cosine_similarity, pairwise_distance, cdist) against libtorch values
/// (Reference/Ops/parity_ops.oracle.csx) and float64 gradcheck.
/// </summary>
public class ParityOpsTests
{
    static Tensor[] One(Tensor t) => [t];
    static readonly double[] Ties = [3, 1, 2, 1, 3, 2, 0, 0, -1, 5, 5, 0];
    static readonly double[] Nans = [1, double.NaN, 0, double.NaN, -1];

    // name → (inputs, function); the same list, in the same order, as parity_ops.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["cumsum_dim1"] = (() => [In([3, 4], 0.9)], a => One(a[0].Cumsum(1))),
        ["cumsum_dim0"] = (() => [In([3, 4], 0.9)], a => One(a[0].Cumsum(0))),
        ["cumprod_dim1"] = (() => [In([3, 4], 0.9, 0.8, 0.4)], a => One(a[0].Cumprod(1))),
        ["cumprod_zeros"] = (() => [Lit([1, 0, 2, 3, 0.5, 2, -1, 0, 0, 3, 0, 1.5, -2, 1, 2], 3, 5)], a => One(a[0].Cumprod(1))),
        ["sort_ties"] = (() => [Lit(Ties, 2, 6)], a => { var (v, i) = a[0].Sort(1); return [v, i]; }),
        ["sort_ties_desc"] = (() => [Lit(Ties, 2, 6)], a => { var (v, i) = a[0].Sort(1, descending: true); return [v, i]; }),
        ["sort_nan"] = (() => [Lit(Nans, 5)], a => { var (v, i) = a[0].Sort(0); return [v, i]; }),
        ["sort_nan_desc"] = (() => [Lit(Nans, 5)], a => { var (v, i) = a[0].Sort(0, descending: true); return [v, i]; }),
        ["unbind_dim1"] = (() => [In([3, 4], 0.9)], a => a[0].Unbind(1)),
        ["chunk_uneven"] = (() => [In([5, 3], 0.6)], a => a[0].Chunk(3, 0)),
        ["split_sizes"] = (() => [In([5, 3], 0.6)], a => a[0].Split([1, 3, 1], 0)),
        ["repeat_interleave_flat"] = (() => [In([2, 3], 0.8)], a => One(a[0].RepeatInterleave(2))),
        ["repeat_interleave_tensor_dim1"] = (() => [In([2, 3], 0.8)], a => One(a[0].RepeatInterleave(Long([1, 0, 2], 3), 1))),
        ["repeat_interleave_dim0"] = (() => [In([2, 3], 0.8)], a => One(a[0].RepeatInterleave(3, 0))),
        ["take_along_dim1"] = (() => [In([3, 4], 0.9)], a => One(a[0].TakeAlongDim(Long([3, 0, 1, 1, 2, 3], 3, 2), 1))),
        ["take_along_broadcast"] = (() => [In([3, 4], 0.9)], a => One(a[0].TakeAlongDim(Long([2, 2, 0], 1, 3), 1))),
        ["take_along_flat"] = (() => [In([3, 4], 0.9)], a => One(a[0].TakeAlongDim(Long([11, 0, 5, 5, 7], 5)))),
        ["meshgrid_ij"] = (() => [In([3], 0.5), In([2], 1.1)], a => Torch.Meshgrid([a[0], a[1]])),
        ["meshgrid_xy"] = (() => [In([3], 0.5), In([2], 1.1)], a => Torch.Meshgrid([a[0], a[1]], MeshgridIndexing.XY)),
        ["atan2"] = (() => [In([3, 4], 0.9, 2), In([3, 4], 1.7, 1.5)], a => One(Torch.Atan2(a[0], a[1]))),
        ["atan2_broadcast"] = (() => [In([3, 4], 0.9, 2), In([4], 1.3, 1.5, 0.2)], a => One(Torch.Atan2(a[0], a[1]))),
        ["atan2_axes"] = (() => [Lit([0, -0.0, 0, -0.0, 1, -1], 6), Lit([-1, -1, 1, 1, 0, 0], 6)], a => One(Torch.Atan2(a[0], a[1]))),
        ["asin"] = (() => [In([3, 4], 0.9, 0.95)], a => One(a[0].Asin())),
        ["acos"] = (() => [In([3, 4], 0.9, 0.95)], a => One(a[0].Acos())),
        ["remainder"] = (() => [In([3, 4], 0.9, 5), In([4], 1.3, 2, 0.3)], a => One(Torch.Remainder(a[0], a[1]))),
        ["fmod"] = (() => [In([3, 4], 0.9, 5), In([4], 1.3, 2, 0.3)], a => One(Torch.Fmod(a[0], a[1]))),
        ["remainder_scalar"] = (() => [In([3, 4], 0.9, 5)], a => One(a[0].Remainder(-1.5))),
        ["fmod_scalar"] = (() => [In([3, 4], 0.9, 5)], a => One(a[0].Fmod(-1.5))),
        ["remainder_int"] = (() => [], _ => One(Torch.Remainder(Long([-7, -3, 3, 7, -7, -3, 3, 7], 2, 4), Long([2, 2, 2, 2, -2, -2, -2, -2], 2, 4)))),
        ["fmod_int"] = (() => [], _ => One(Torch.Fmod(Long([-7, -3, 3, 7, -7, -3, 3, 7], 2, 4), Long([2, 2, 2, 2, -2, -2, -2, -2], 2, 4)))),
        ["cosine_similarity"] = (() => [In([3, 5], 0.9), In([3, 5], 1.3, 1, 0.2)], a => One(F.CosineSimilarity(a[0], a[1]))),
        ["cosine_similarity_broadcast_dim0"] = (() => [In([4, 3], 0.9), In([4, 1], 1.3, 1, 0.2)], a => One(F.CosineSimilarity(a[0], a[1], 0))),
        ["pairwise_distance"] = (() => [In([3, 5], 0.9), In([3, 5], 1.3, 1, 0.2)], a => One(F.PairwiseDistance(a[0], a[1]))),
        ["pairwise_distance_p1_keepdim"] = (() => [In([3, 5], 0.9), In([3, 5], 1.3, 1, 0.2)], a => One(F.PairwiseDistance(a[0], a[1], 1, 1e-6, keepDim: true))),
        ["pairwise_distance_p3"] = (() => [In([3, 5], 0.9), In([5], 1.3, 1, 0.2)], a => One(F.PairwiseDistance(a[0], a[1], 3))),
        ["cdist_p2"] = (() => [In([2, 3, 4], 0.9), In([2, 5, 4], 1.3, 1, 0.2)], a => One(Torch.Cdist(a[0], a[1]))),
        ["cdist_p1"] = (() => [In([2, 3, 4], 0.9), In([2, 5, 4], 1.3, 1, 0.2)], a => One(Torch.Cdist(a[0], a[1], 1))),
        ["cdist_p3_2d"] = (() => [In([3, 4], 0.9), In([5, 4], 1.3, 1, 0.2)], a => One(Torch.Cdist(a[0], a[1], 3))),
        ["cdist_p2_mm"] = (() => [In([30, 3], 0.37), In([4, 3], 1.3, 1, 0.2)], a => One(Torch.Cdist(a[0], a[1]))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        // the matmul route of cdist loses a few digits to cancellation in ‖a‖² + ‖b‖² − 2a·b, in libtorch too
        double rtol = name == "cdist_p2_mm" ? 1e-9 : 1e-10;
        Check(ParityOpsReference.Cases[name], make(), f, rtol);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart()
    {
        // topk is the exception, checked apart: its order among ties is not PyTorch's (see TopK_values_match_libtorch...)
        var missing = ParityOpsReference.Cases.Keys.Where(k => !Cases.ContainsKey(k) && !k.StartsWith("topk")).ToArray();
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("topk_ties", 3, true)]
    [InlineData("topk_smallest", 2, false)]
    public void TopK_values_match_libtorch_and_ties_come_in_index_order(string name, int k, bool largest)
    {
        // libtorch orders tied values by std::nth_element's partition, an implementation detail; Ember gives ties in
        // index order (a stable sort), so the values and each index's value must agree, not the tied indices.
        var x = Lit(Ties, 2, 6);
        var (v, i) = x.TopK(k, 1, largest);
        var expected = ParityOpsReference.Cases[name].Outputs;
        TestUtil.Close(expected[0].Values, v, 0, 0);
        TestUtil.Close(expected[0].Values, x.Detach().Gather(1, i), 0, 0);
        Assert.Equal(largest ? new long[] { 0, 4, 2, 3, 4, 0 } : new long[] { 1, 3, 2, 0 }, i.ToArray<long>());
    }

    public static TheoryData<string> GradCheckNames() =>
    [
        "cumsum", "cumprod", "cumprod_with_zeros", "repeat_interleave", "take_along_dim", "meshgrid", "atan2", "asin", "acos",
        "remainder", "fmod", "cosine_similarity", "pairwise_distance_p3", "cdist_p2", "cdist_p1", "cdist_p3", "cdist_mm",
    ];

    static (Func<Tensor[], Tensor> F, Tensor[] Inputs) GradCase(string name) => name switch
    {
        "cumsum" => (xs => xs[0].Cumsum(1).Square(), [TestUtil.Leaf([3, 4], 1)]),
        "cumprod" => (xs => xs[0].Cumprod(0), [TestUtil.Leaf([4, 3], 2)]),
        "cumprod_with_zeros" => (xs => xs[0].Cumprod(1) * xs[1], [Lit([1, 0, 2, 3, 0.5, 2, -1, 0, 0, 3, 0, 1.5, -2, 1, 2], 3, 5), TestUtil.Leaf([3, 5], 3)]),
        "repeat_interleave" => (xs => xs[0].RepeatInterleave(Long([2, 0, 3], 3), 1).Square(), [TestUtil.Leaf([2, 3], 4)]),
        "take_along_dim" => (xs => xs[0].TakeAlongDim(Long([2, 2, 0], 1, 3), 1).Square(), [TestUtil.Leaf([3, 4], 5)]),
        "meshgrid" => (xs => { var g = Torch.Meshgrid([xs[0], xs[1]], MeshgridIndexing.XY); return g[0] * g[1]; }, [TestUtil.Leaf([3], 6), TestUtil.Leaf([2], 7)]),
        "atan2" => (xs => Torch.Atan2(xs[0], xs[1]), [TestUtil.Leaf([3, 4], 8), TestUtil.Leaf([4], 9)]),
        "asin" => (xs => xs[0].Asin(), [In([3, 4], 0.9, 0.9)]),
        "acos" => (xs => xs[0].Acos(), [In([3, 4], 0.9, 0.9)]),
        // away from the jumps of floor/trunc (a/b not near an integer), where the finite difference is meaningful
        "remainder" => (xs => Torch.Remainder(xs[0], xs[1]), [Lit([2.3, -2.3, 5.2, -0.7], 4), Lit([1.1, 1.1, -1.5, 2.0], 4)]),
        "fmod" => (xs => Torch.Fmod(xs[0], xs[1]), [Lit([2.3, -2.3, 5.2, -0.7], 4), Lit([1.1, 1.1, -1.5, 2.0], 4)]),
        "cosine_similarity" => (xs => F.CosineSimilarity(xs[0], xs[1], -1), [TestUtil.Leaf([3, 5], 10), TestUtil.Leaf([1, 5], 11)]),
        "pairwise_distance_p3" => (xs => F.PairwiseDistance(xs[0], xs[1], 3), [TestUtil.Leaf([3, 5], 12), TestUtil.Leaf([3, 5], 13)]),
        "cdist_p2" => (xs => Torch.Cdist(xs[0], xs[1]), [TestUtil.Leaf([2, 3, 4], 14), TestUtil.Leaf([2, 5, 4], 15)]),
        "cdist_p1" => (xs => Torch.Cdist(xs[0], xs[1], 1), [TestUtil.Leaf([3, 4], 16), TestUtil.Leaf([5, 4], 17)]),
        "cdist_p3" => (xs => Torch.Cdist(xs[0], xs[1], 3), [TestUtil.Leaf([3, 4], 18), TestUtil.Leaf([5, 4], 19)]),
        "cdist_mm" => (xs => Torch.Cdist(xs[0], xs[1]), [TestUtil.Leaf([27, 3], 20), TestUtil.Leaf([4, 3], 21)]),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(GradCheckNames))]
    public void Gradients_pass_float64_gradcheck_first_and_second_order(string name)
    {
        var (f, inputs) = GradCase(name);
        GradCheck.Check(f, inputs);
        GradCheck.CheckSecondOrder(f, inputs);
    }

    [Fact]
    public void Cumsum_of_float32_accumulates_in_double_and_of_ints_stays_int64()
    {
        // 2²⁴ + 1 + 1 is exact in double; a float accumulator would lose both ones
        var x = Torch.Tensor(16777216f, 1f, 1f);
        Assert.Equal([16777216f, 16777216f, 16777218f], x.Cumsum(0).ToArray<float>());
        var b = Torch.Tensor(true, false, true);
        Assert.Equal(DType.Int64, b.Cumsum(0).DType);
        Assert.Equal([1L, 1L, 2L], b.Cumsum(0).ToArray<long>());
        Assert.Equal([2L, 6L, 24L], Torch.Tensor(2L, 3L, 4L).Cumprod(0).ToArray<long>());
    }

    [Fact]
    public void Errors_name_the_op_and_what_came()
    {
        var x = Torch.Zeros(3, 4);
        Assert.Contains("take_along_dim: input and indices should have the same number of dimensions, but got 2 dimensions for input, and 1",
            Assert.Throws<ArgumentException>(() => x.TakeAlongDim(Long([0, 1], 2), 1)).Message);
        Assert.Contains("repeat_interleave: repeats must have the same size as input along dim 1, got 2 repeats for size 4",
            Assert.Throws<ArgumentException>(() => x.RepeatInterleave(Long([1, 2], 2), 1)).Message);
        Assert.Contains("meshgrid: expects 0-D or 1-D tensors, got shape [3, 4] at position 1",
            Assert.Throws<ArgumentException>(() => Torch.Meshgrid([Torch.Zeros(2), x])).Message);
        Assert.Contains("cdist: x1 and x2 must have the same number of columns",
            Assert.Throws<ArgumentException>(() => Torch.Cdist(x, Torch.Zeros(2, 3))).Message);
        Assert.Contains("remainder: integer division by zero",
            Assert.Throws<DivideByZeroException>(() => Torch.Remainder(Long([1, 2], 2), Long([1, 0], 2))).Message);
    }

    [Fact]
    public void RepeatInterleave_of_counts_alone_gives_the_repeated_indices()
    {
        Assert.Equal([0L, 0L, 2L, 2L, 2L], Torch.RepeatInterleave(Long([2, 0, 3], 3)).ToArray<long>());
    }
}
