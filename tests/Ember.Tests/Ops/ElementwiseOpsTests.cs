using static Ember.Tests.Reference.CoreInputs;
using Ember.Tests.Reference;

namespace Ember.Tests.Ops;

/// <summary>UnaryOps and BinaryOps forward values against libtorch (tools/oracle/core_ops.cs).</summary>
public class ElementwiseOpsTests
{
    static readonly Dictionary<string, Func<Tensor>> Cases = new()
    {
        ["Neg"] = () => A.Neg(), ["Abs"] = () => A.Abs(), ["Sign"] = () => A.Sign(), ["Exp"] = () => A.Exp(), ["Log"] = () => P.Log(),
        ["Log1p"] = () => P.Log1p(), ["Expm1"] = () => A.Expm1(), ["Sqrt"] = () => P.Sqrt(), ["Rsqrt"] = () => P.Rsqrt(),
        ["Square"] = () => A.Square(), ["Reciprocal"] = () => A.Reciprocal(), ["Sin"] = () => C.Sin(), ["Cos"] = () => C.Cos(),
        ["Tanh"] = () => C.Tanh(), ["Sigmoid"] = () => C.Sigmoid(), ["Relu"] = () => A.Relu(), ["Erf"] = () => C.Erf(),
        ["Softplus"] = () => Big.Softplus(), ["SoftplusBeta2Threshold1"] = () => A.Softplus(2, 1), ["LogSigmoid"] = () => Big.LogSigmoid(),
        ["Floor"] = () => R.Floor(), ["Ceil"] = () => R.Ceil(), ["Round"] = () => R.Round(), ["Trunc"] = () => R.Trunc(),
        ["AddRow"] = () => A + Row, ["AddRowAlpha"] = () => A.Add(Row, 2.5), ["SubCol"] = () => A - Col, ["MulRow"] = () => A * Row,
        ["DivCol"] = () => A / Col, ["ColPlusRow"] = () => Col + Row.Reshape(1, 4), ["MulC_A"] = () => C * A,
        ["PowTensor"] = () => P.Pow(Row), ["PowScalar"] = () => P.Pow(2.5), ["PowCube"] = () => A.Pow(3),
        ["MaximumRow"] = () => A.Maximum(Row), ["MinimumCol"] = () => A.Minimum(Col), ["WhereA"] = () => Torch.Where(A > 0, A, Row),
        ["ClampScalar"] = () => A.Clamp(-0.5, 0.8), ["ClampMinOnly"] = () => A.Clamp(min: 0.2), ["ClampTensor"] = () => A.Clamp(Lo, Hi),
        ["ScalarRsub"] = () => 1.0 - A, ["ScalarDiv"] = () => 2.0 / P,
    };

    public static TheoryData<string> Names => OracleCases.Names(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Forward_matches_libtorch(string name) => OracleCases.Check(name, Cases[name](), rtol: 2e-6);

    [Fact]
    public void Ops_on_transposed_and_sliced_inputs_equal_ops_on_contiguous_copies()
    {
        var ct = C.Transpose(0, 2);            // [4, 3, 2], non-contiguous
        TestUtil.Close(ct.Contiguous().Exp(), ct.Exp(), 1e-6, 0);
        var sliced = C[.., TensorIndex.Slice(step: 2), 1..];
        TestUtil.Close(sliced.Contiguous() * 2.0 - sliced.Contiguous(), sliced * 2.0 - sliced, 0, 0);
        // transcendental functions: the vectorized and scalar paths may differ in the last bit
        TestUtil.Close(sliced.Contiguous().Tanh(), sliced.Tanh(), 1e-6, 0);
        var expanded = Row.Expand(3, 4);
        TestUtil.Close(A + Row, A + expanded, 0, 0);
        TestUtil.Close(A.T.Contiguous() - Col.T, A.T - Col.T, 0, 0);
    }

    [Fact]
    public void Comparisons_broadcast_and_return_bool()
    {
        var a = Torch.Tensor(1f, 2f, 3f);
        var b = Torch.Tensor(new float[,] { { 2f }, { 1f } });
        Assert.Equal(DType.Bool, a.Eq(b).DType);
        Assert.Equal([false, true, false, true, false, false], a.Eq(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([true, false, true, false, true, true], a.Ne(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([true, false, false, false, false, false], a.Lt(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([true, true, false, true, false, false], a.Le(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([false, false, true, false, true, true], a.Gt(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([false, true, true, true, true, true], a.Ge(b).Reshape(-1).ToArray<bool>());
        Assert.Equal([false, true, true], (a > 1.5).ToArray<bool>());
        Assert.Equal([true, true, false], (a <= 2.0).ToArray<bool>());
        Assert.Equal([false, true, false], a.Eq(2.0).ToArray<bool>());
        var ints = Torch.Tensor(1L, 2L, 3L);
        Assert.Equal([true, false, false], ints.Lt(Torch.Tensor(1.5f, 1.5f, 1.5f)).ToArray<bool>());
    }

    [Fact]
    public void Logical_ops_follow_truth_tables()
    {
        var p = Torch.Tensor(true, true, false, false);
        var q = Torch.Tensor(true, false, true, false);
        Assert.Equal([true, false, false, false], p.LogicalAnd(q).ToArray<bool>());
        Assert.Equal([true, true, true, false], p.LogicalOr(q).ToArray<bool>());
        Assert.Equal([false, true, true, false], p.LogicalXor(q).ToArray<bool>());
        Assert.Equal([false, false, true, true], p.LogicalNot().ToArray<bool>());
        Assert.Equal([true, false, false, false], (p & q).ToArray<bool>());
        Assert.Equal([true, true, true, false], (p | q).ToArray<bool>());
        Assert.Equal([false, false, true, true], (!p).ToArray<bool>());
        // non-bool operands count as "non-zero"
        Assert.Equal([true, false, false], Torch.Tensor(2f, 0f, -0f).LogicalAnd(Torch.Tensor(1L, 1L, 1L)).ToArray<bool>());
    }

    [Fact]
    public void IsNan_IsFinite_IsInf_classify_special_values()
    {
        var x = Torch.Tensor(1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f);
        Assert.Equal([false, true, false, false, false], x.IsNan().ToArray<bool>());
        Assert.Equal([true, false, false, false, true], x.IsFinite().ToArray<bool>());
        Assert.Equal([false, false, true, true, false], x.IsInf().ToArray<bool>());
        Assert.Equal([true, true], Torch.Tensor(3L, -4L).IsFinite().ToArray<bool>());
        Assert.Equal([false, false], Torch.Tensor(3L, -4L).IsNan().ToArray<bool>());
    }

    // libtorch 2.10 through torch-oracle (relu of these x, then (y·g).sum().backward(), float32, float64 and bfloat16 alike):
    // grad = [3, 0, 0, 0, 13, 17, 0]. threshold_backward zeroes where the input is ≤ 0, so a NaN passes the gradient.
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.BFloat16)]
    public void Relu_backward_at_NaN_and_infinities_follows_PyTorch_in_the_kernel_and_the_graph(DType dtype)
    {
        double[] expected = [3, 0, 0, 0, 13, 17, 0];
        foreach (bool createGraph in new[] { false, true })
        {
            var x = Torch.Tensor(float.NaN, -1f, 0f, -0f, 2f, float.PositiveInfinity, float.NegativeInfinity).To(dtype).RequiresGradInPlace();
            var g = Torch.Tensor(3f, 5f, 7f, 11f, 13f, 17f, 19f).To(dtype);
            var dx = Torch.Grad([x.Relu()], [x], [g], createGraph: createGraph)[0]!;
            Assert.Equal(expected, dx.To(DType.Float64).ToArray<double>());
        }
    }

    [Fact]
    public void Special_values_follow_PyTorch()
    {
        var x = Torch.Tensor(float.NaN, -1f, 0f, float.PositiveInfinity);
        TestUtil.Close([double.NaN, 0, 0, double.PositiveInfinity], x.Relu());
        TestUtil.Close([double.NaN, -1, 0, 1], x.Sign());
        TestUtil.Close([double.NaN, 0.268941421, 0.5, 1], x.Sigmoid(), rtol: 1e-6);
        TestUtil.Close([double.NaN, double.NaN, double.NegativeInfinity, double.PositiveInfinity], x.Log());
        TestUtil.Close([double.NaN, -0.5, 0, 0.8], x.Clamp(-0.5, 0.8), atol: 1e-7);
        TestUtil.Close([double.NaN, 0, 1, double.PositiveInfinity], x.Maximum(Torch.Tensor(0f, 0f, 1f, 0f)));
        TestUtil.Close([double.NaN, -1, 0, 0], x.Minimum(Torch.ZerosLike(x)));
    }

    [Fact]
    public void Log1p_expm1_and_tanh_are_accurate_near_zero()
    {
        // .NET's LogP1/ExpM1 are naive (float.LogP1(1e-8f) == 0) and TensorPrimitives.Tanh cancels near 0: both were wrong here
        float[] small = [1e-8f, -3e-7f, 1e-5f, 2e-3f, -0.03f, 0.2f, 0.6f, 0.7f, -5f];
        var x = Torch.Tensor(small);
        double[] Ref(Func<double, double> f) => small.Select(v => f(v)).ToArray();
        static double Log1p(double v) => v - v * v / 2 + v * v * v / 3 - v * v * v * v / 4 + (Math.Abs(v) > 1e-3 ? Math.Log(1 + v) - (v - v * v / 2 + v * v * v / 3 - v * v * v * v / 4) : 0);
        TestUtil.Close(Ref(Log1p), x.Log1p(), rtol: 2e-7, atol: 0);
        TestUtil.Close(Ref(v => Math.Abs(v) < 1e-3 ? v + v * v / 2 + v * v * v / 6 : Math.Exp(v) - 1), x.Expm1(), rtol: 2e-7, atol: 0);
        TestUtil.Close(Ref(Math.Tanh), x.Tanh(), rtol: 2e-7, atol: 0);
        // long enough for the vector path, and in double
        var many = Torch.Full([100], 1e-5);
        TestUtil.Close(Enumerable.Repeat(Math.Tanh(1e-5), 100).ToArray(), many.Tanh(), rtol: 2e-7, atol: 0);
        var d = Torch.Tensor(1e-12, -1e-10);
        TestUtil.Close([1e-12 - 5e-25, -1e-10 - 5e-21], d.Log1p(), rtol: 1e-14, atol: 0);
        TestUtil.Close([1e-12 + 5e-25, -1e-10 + 5e-21], d.Expm1(), rtol: 1e-14, atol: 0);
    }

    [Fact]
    public void Atan_matches_math_and_promotes_integers()
    {
        var x = Torch.Tensor(-1e6f, -1f, 0f, 0.5f, 3f);
        TestUtil.Close([Math.Atan(-1e6), -Math.PI / 4, 0, Math.Atan(0.5), Math.Atan(3)], x.Atan(), rtol: 1e-7);
        Assert.Equal(DType.Float32, Torch.Tensor(1L).Atan().DType);
        TestUtil.Close([Math.PI / 4, Math.Atan(2)], Torch.Tensor(1.0, 2.0).T.Atan(), rtol: 1e-15);
    }

    [Fact]
    public void Elementwise_ops_on_empty_tensors()
    {
        var e = Torch.Zeros(0, 3);
        foreach (var y in new[] { e.Sigmoid(), e.Tanh(), e.Exp(), e + 1.0, e * e, e.Relu(), e.Softmax(1), e.Log1p() })
            Assert.Equal(new Shape(0, 3), y.Shape);
    }

    [Fact]
    public void Dtypes_promote_like_torch_result_type()
    {
        var i = Torch.Tensor(1L, 2L, 3L);
        var f = Torch.Tensor(0.5f, 0.5f, 0.5f);
        var d = Torch.Tensor(0.25, 0.25, 0.25);
        Assert.Equal(DType.Float32, (i + f).DType);
        Assert.Equal(DType.Float64, (f + d).DType);
        Assert.Equal(DType.Int64, (i + 1).DType);
        Assert.Equal(DType.Int64, (i * 2).DType);
        Assert.Equal(DType.Int64, (2 * i).DType);
        Assert.Equal(DType.Int64, (1 + i).DType);
        Assert.Equal(DType.Int64, (5 - i).DType);
        Assert.Equal(DType.Float32, (i * 0.5).DType);
        Assert.Equal(DType.Float32, (i / 2).DType);   // true division
        TestUtil.Close([0.5, 1, 1.5], i / 2);
        Assert.Equal(DType.Float32, (f + 1).DType);
        Assert.Equal(DType.Float32, (f * Torch.Scalar(2.0, DType.Float64)).DType); // a 0-d tensor does not promote a dimensioned one
        Assert.Equal(DType.Float64, (i * Torch.Scalar(2.0, DType.Float64)).DType); // but a higher category does
        Assert.Equal(DType.Int64, i.Pow(2).DType);
        Assert.Equal([1L, 8L, 27L], i.Pow(3).ToArray<long>());
        Assert.Equal([1L, 2L, 3L], i.Abs().ToArray<long>());
        Assert.Equal(DType.Float32, i.Exp().DType);
        Assert.Equal(DType.Int64, i.MaskedFill(i > 1.5, 0).DType);
        Assert.Equal([1L, 0L, 0L], i.MaskedFill(i > 1.5, 0).ToArray<long>());
        Assert.Equal(DType.Int64, i.Clamp(2, 2).DType);
        Assert.Equal([2L, 2L, 2L], i.Clamp(2, 2).ToArray<long>());
        Assert.Equal(DType.Int64, Torch.Sum(Torch.Tensor(true, true, false)).DType);
    }

    [Fact]
    public void Clamp_with_tensor_bounds_and_min_above_max()
    {
        var x = Torch.Tensor(-2f, 0f, 2f);
        TestUtil.Close([1, 1, 1], x.Clamp(1.0, 1.0));
        TestUtil.Close([0.5, 0.5, 0.5], x.Clamp(1.0, 0.5)); // min > max: everything becomes max, as PyTorch
        TestUtil.Close([-1, 0, 1], x.Clamp(Torch.Tensor(-1f, -1f, -1f), Torch.Tensor(1f, 1f, 1f)));
        TestUtil.Close([-2, 0, 0.5], x.Clamp(null, Torch.Scalar(0.5)));
    }
}
