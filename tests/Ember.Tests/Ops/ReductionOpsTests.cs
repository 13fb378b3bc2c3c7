using static Ember.Tests.Reference.CoreInputs;
using Ember.Tests.Reference;

namespace Ember.Tests.Ops;

/// <summary>ReductionOps (and the reductions composed in Tensor.Reductions) against libtorch (tools/oracle/core_ops.cs).</summary>
public class ReductionOpsTests
{
    static readonly Dictionary<string, Func<Tensor>> Cases = new()
    {
        ["SumAll"] = () => C.Sum(), ["Sum1"] = () => C.Sum(1), ["Sum02Keep"] = () => C.Sum([0, 2], keepDim: true),
        ["MeanLast"] = () => C.Mean(-1), ["Mean01Keep"] = () => C.Mean([0, 1], keepDim: true),
        ["Var1"] = () => C.Var(1), ["Var02Biased"] = () => C.Var([0, 2], correction: 0), ["Std2"] = () => C.Std(2),
        ["StdAll"] = () => C.Std(), ["VarKeepCorr2"] = () => C.Var([1], keepDim: true, correction: 2),
        ["MaxAll"] = () => C.Max(), ["MinAll"] = () => C.Min(),
        ["Max1Values"] = () => C.Max(1).Values, ["Max1Indices"] = () => C.Max(1).Indices,
        ["Min2KeepValues"] = () => C.Min(2, keepDim: true).Values, ["Min2KeepIndices"] = () => C.Min(2, keepDim: true).Indices,
        ["ArgMaxAll"] = () => C.ArgMax(), ["ArgMax1"] = () => C.ArgMax(1), ["ArgMin0Keep"] = () => C.ArgMin(0, keepDim: true),
        ["LogSumExp1"] = () => C.LogSumExp(1), ["LogSumExp02"] = () => C.LogSumExp([0, 2]),
        ["Prod1"] = () => Q.Prod(1), ["ProdAll"] = () => Q.Prod(),
        ["Norm1"] = () => C.Norm(1), ["Norm2"] = () => C.Norm(), ["NormInf"] = () => C.Norm(double.PositiveInfinity),
        ["Norm2Dim2"] = () => C.Norm(2, [2]), ["Norm1Dim1Keep"] = () => C.Norm(1, [1], keepDim: true),
        ["NormInfDim0"] = () => C.Norm(double.PositiveInfinity, [0]), ["Amax02"] = () => C.Amax([0, 2]),
        ["Softmax0"] = () => C.Softmax(0), ["Softmax1"] = () => C.Softmax(1), ["Softmax2"] = () => C.Softmax(2),
        ["LogSoftmax0"] = () => C.LogSoftmax(0), ["LogSoftmax1"] = () => C.LogSoftmax(1), ["LogSoftmax2"] = () => C.LogSoftmax(2),
    };

    public static TheoryData<string> Names => OracleCases.Names(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Forward_matches_libtorch(string name) => OracleCases.Check(name, Cases[name](), rtol: 1e-5);

    [Fact]
    public void Reductions_of_non_contiguous_inputs_equal_those_of_contiguous_copies()
    {
        var t = C.Permute(2, 0, 1);
        var c = t.Contiguous();
        TestUtil.Close(c.Sum([0, 2]), t.Sum([0, 2]), 0, 0);
        TestUtil.Close(c.Max(1).Values, t.Max(1).Values, 0, 0);
        TestUtil.Close(c.Max(1).Indices, t.Max(1).Indices, 0, 0);
        TestUtil.Close(c.Softmax(1), t.Softmax(1), 0, 0);
        TestUtil.Close(c.Var([0, 1]), t.Var([0, 1]), 0, 0);
    }

    [Fact]
    public void Empty_and_integer_reductions()
    {
        var empty = Torch.Zeros(2, 0);
        TestUtil.Close([0, 0], empty.Sum(1));
        TestUtil.Close([1, 1], empty.Prod(1));
        Assert.Equal(DType.Int64, Torch.Tensor(1L, 2L, 3L).Sum().DType);
        Assert.Equal(6L, Torch.Tensor(1L, 2L, 3L).Prod().Item<long>());
        Assert.Equal(2L, Torch.Tensor(true, false, true).Sum().Item<long>());
        Assert.Equal(5L, Torch.Tensor(1L, 5L, 3L).Max(0).Values.Item<long>());
        Assert.Throws<ArgumentException>(() => empty.Max());
    }

    [Fact]
    public void Max_and_argmax_prefer_nan_and_the_first_of_ties()
    {
        var x = Torch.Tensor(1f, 3f, 3f, 0f);
        Assert.Equal(1L, x.ArgMax().Item<long>());
        Assert.Equal(3L, x.ArgMin().Item<long>());
        var n = Torch.Tensor(1f, float.NaN, 3f);
        Assert.True(double.IsNaN(n.Max().Item()));
        Assert.Equal(1L, n.ArgMax().Item<long>());
        Assert.True(double.IsNaN(n.Sum().Item()));
    }

    [Fact]
    public void Mean_and_its_gradient_are_the_bits_of_sum_then_divide_by_the_count()
    {
        // mean runs as one kernel that divides each sum as it stores it; it replaced sum(x) / count, whose bits it keeps
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var (dims, keep) in new (int[]?, bool)[] { ([1], false), ([-1], true), ([0, 2], false), ([0, 1], true), (null, false) })
            {
                int[] shape = [6, 50, 40];
                var x0 = Torch.Randn(shape, dtype, new Generator(3));
                var w = Torch.RandnLike(x0.Sum(dims ?? [0, 1, 2], keep), new Generator(4));
                int count = dims is null ? x0.NumEl : dims.Aggregate(1, (n, d) => n * shape[d < 0 ? d + 3 : d]);
                var a = x0.Clone().RequiresGradInPlace();
                var mean = dims is null ? a.Mean() : a.Mean(dims, keep);
                (mean * w).Sum().Backward();
                var b = x0.Clone().RequiresGradInPlace();
                var composed = (dims is null ? b.Sum() : b.Sum(dims, keep)) / (double)count;
                (composed * w).Sum().Backward();
                Assert.Equal(composed.Shape, mean.Shape);
                Assert.Equal(composed.ToDoubleArray(), mean.ToDoubleArray());
                Assert.Equal(b.Grad!.ToDoubleArray(), a.Grad!.ToDoubleArray());
            }
    }

    [Fact]
    public void Var_with_a_single_element_is_nan_unbiased_and_zero_biased()
    {
        var x = Torch.Tensor(2f);
        Assert.True(double.IsNaN(x.Var().Item()));
        Assert.Equal(0, x.Var(correction: 0).Item());
    }

    [Fact]
    public void Logsumexp_handles_infinities()
    {
        var x = Torch.Tensor(new float[,] { { float.NegativeInfinity, float.NegativeInfinity }, { 1000f, 1000f }, { float.PositiveInfinity, 0f } });
        TestUtil.Close([double.NegativeInfinity, 1000 + Math.Log(2), double.PositiveInfinity], x.LogSumExp(1), rtol: 1e-6);
    }
}
