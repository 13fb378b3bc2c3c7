using static Ember.Tests.Reference.CoreInputs;
using Ember.Tests.Reference;

namespace Ember.Tests.Ops;

/// <summary>IndexingOps and the joining/reordering ops (cat, stack, pad, roll, ...) against libtorch.</summary>
public class IndexingOpsTests
{
    static Tensor Idx => Long([0, 3, 1, 2, 2, 0], 3, 2);
    static Tensor X3 => C.Select(0, 0).Unsqueeze(0);

    static readonly Dictionary<string, Func<Tensor>> Cases = new()
    {
        ["Cat1"] = () => Torch.Cat([A, Col], 1), ["Stack1"] = () => Torch.Stack([A, P], 1),
        ["Gather1"] = () => A.Gather(1, Idx), ["Gather0"] = () => A.Gather(0, Long([2, 0, 1, 1, 0, 2, 2, 1], 2, 4)),
        ["Scatter1"] = () => Torch.Zeros(3, 4).Scatter(1, Idx, SrcS), ["ScatterValue"] = () => A.Scatter(1, Idx, 7.0),
        ["ScatterAdd1"] = () => A.ScatterAdd(1, Long([1, 1, 3, 0, 0, 0], 3, 2), SrcS),
        ["IndexSelect0"] = () => A.IndexSelect(0, Long([2, 0, 2])), ["IndexSelect1"] = () => C.IndexSelect(1, Long([1, 1, 0])),
        ["MaskedFill"] = () => A.MaskedFill(A < 0, -9.0), ["MaskedFillRow"] = () => A.MaskedFill(Row > 0, 3.5),
        ["MaskedSelect"] = () => A.MaskedSelect(A > 0.4), ["MaskedSelectBroadcast"] = () => A.MaskedSelect(Row > 0),
        ["OneHot"] = () => Torch.OneHot(Long([0, 3, 1, 1]), 5),
        ["TopK1Values"] = () => A.TopK(2, 1).Values, ["TopK1Indices"] = () => A.TopK(2, 1).Indices,
        ["TopK0SmallValues"] = () => A.TopK(2, 0, largest: false).Values, ["TopK0SmallIndices"] = () => A.TopK(2, 0, largest: false).Indices,
        ["Sort1DescValues"] = () => C.Sort(1, descending: true).Values, ["Sort1DescIndices"] = () => C.Sort(1, descending: true).Indices,
        ["SortLastValues"] = () => A.Sort(-1).Values, ["SortLastIndices"] = () => A.Sort(-1).Indices, ["ArgSort0"] = () => A.ArgSort(0),
        ["Nonzero"] = () => TestUtil.F32([0f, 1.5f, 0f, -2f, 0f, 3f], 2, 3).Nonzero(),
        ["Tril"] = () => A.Tril(), ["TrilM1"] = () => A.Tril(-1), ["Triu1"] = () => A.Triu(1), ["TriuBatch"] = () => C.Triu(-1),
        ["Repeat"] = () => Q.Repeat(2, 1, 3), ["Flip0"] = () => A.Flip(0), ["Flip01"] = () => C.Flip(0, 2),
        ["Roll1"] = () => A.Roll(1, 1), ["RollNeg"] = () => A.Roll(-2, 0), ["RollFlat"] = () => A.Roll([5]),
        ["Roll2D"] = () => C.Roll([1, -1], [0, 2]),
        ["PadConstant"] = () => Torch.Pad(X3, [1, 2], PaddingMode.Constant, 0.5),
        ["PadConstant2D"] = () => Torch.Pad(X3, [1, 0, 2, 1], PaddingMode.Constant, -1),
        ["PadReflect"] = () => Torch.Pad(X3, [2, 3], PaddingMode.Reflect),
        ["PadReplicate"] = () => Torch.Pad(X3, [2, 1], PaddingMode.Replicate),
        ["PadReflect2D"] = () => Torch.Pad(X3.Unsqueeze(0), [1, 2, 2, 1], PaddingMode.Reflect),
        ["PadReplicate2D"] = () => Torch.Pad(X3.Unsqueeze(0), [2, 0, 1, 2], PaddingMode.Replicate),
        ["PadNegative"] = () => Torch.Pad(X3, [-1, 1], PaddingMode.Constant, 0),
    };

    public static TheoryData<string> Names => OracleCases.Names(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Forward_matches_libtorch(string name) => OracleCases.Check(name, Cases[name](), rtol: 1e-6);

    [Fact]
    public void Index_results_have_int64_dtype_and_values_keep_theirs()
    {
        Assert.Equal(DType.Int64, A.Sort().Indices.DType);
        Assert.Equal(DType.Int64, A.TopK(1).Indices.DType);
        Assert.Equal(DType.Int64, A.Nonzero().DType);
        Assert.Equal(DType.Int64, A.ArgMax().DType);
        Assert.Equal(DType.Int64, Torch.OneHot(Long([1, 0])).DType);
        Assert.Equal(DType.Int64, Long([3, 1, 2]).Flip(0).DType);
        Assert.Equal([1L, 0L, 3L, 4L], Long([1, 2, 3, 4], 2, 2).Tril().Reshape(-1).ToArray<long>());
        Assert.Equal(DType.Int64, Long([1, 2, 3, 4], 2, 2).Tril().DType);
    }

    [Fact]
    public void Split_and_chunk_return_views_of_the_right_sizes()
    {
        var x = Torch.Arange(10).Reshape(5, 2);
        var parts = x.Split(2);
        Assert.Equal([2, 2, 1], parts.Select(p => p.Size(0)));
        Assert.Equal([8L, 9L], parts[2].Reshape(-1).ToArray<long>());
        var sized = x.Split([1, 4], 0);
        Assert.Equal([1, 4], sized.Select(p => p.Size(0)));
        var chunks = Torch.Arange(6).Chunk(4);
        Assert.Equal([2, 2, 2], chunks.Select(p => p.Size(0)));   // chunk size ceil(6/4) = 2, as PyTorch
        Assert.Equal([2, 1], Torch.Arange(6).Reshape(2, 3).Chunk(2, 1).Select(p => p.Size(1)));
        Assert.Same(x.storage, parts[1].storage);
    }

    [Fact]
    public void Sort_is_stable_and_puts_nan_last_ascending_first_descending()
    {
        var x = Torch.Tensor(2f, float.NaN, 1f, 2f, 1f);
        var (v, i) = x.Sort();
        TestUtil.Close([1, 1, 2, 2, double.NaN], v);
        Assert.Equal([2L, 4L, 0L, 3L, 1L], i.ToArray<long>());
        var (vd, id) = x.Sort(descending: true);
        TestUtil.Close([double.NaN, 2, 2, 1, 1], vd);
        Assert.Equal([1L, 0L, 3L, 2L, 4L], id.ToArray<long>());
    }

    [Fact]
    public void Nonzero_of_bool_and_3d()
    {
        var m = Torch.Zeros([2, 2, 2], DType.Bool);
        m[1, 0, 1].FillInPlace(1);
        Assert.Equal(new Shape(1, 3), m.Nonzero().Shape);
        Assert.Equal([1L, 0L, 1L], m.Nonzero().Reshape(-1).ToArray<long>());
        Assert.Equal(new Shape(0, 1), Torch.Zeros(4).Nonzero().Shape);
    }

    [Fact]
    public void Cat_promotes_dtypes_and_skips_legacy_empty_vectors()
    {
        var y = Torch.Cat([Torch.Tensor(1L, 2L), Torch.Tensor(0.5f)]);
        Assert.Equal(DType.Float32, y.DType);
        TestUtil.Close([1, 2, 0.5], y);
        var z = Torch.Cat([Torch.Zeros(2, 2), Torch.Empty([0]), Torch.Ones(1, 2)]);
        Assert.Equal(new Shape(3, 2), z.Shape);
    }

    [Fact]
    public void Scatter_with_a_larger_source_uses_its_leading_block()
    {
        // src [3, 5] is larger than the index [3, 2] in dim 1: PyTorch reads src[i][j] for j < 2 only
        var y = Torch.Zeros(3, 4).Scatter(1, Idx, SrcS);
        OracleCases.Check("Scatter1", y);
    }
}
