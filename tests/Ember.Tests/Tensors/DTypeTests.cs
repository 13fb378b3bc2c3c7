using Ember.Kernels.Numerics;
using Ember.Tests.Reference.Tensors;

namespace Ember.Tests.Tensors;

/// <summary>The dtypes against libtorch (Reference/Tensors/dtypes.oracle.csx): conversions, promotion, and a few ops per dtype.</summary>
public class DTypeTests
{
    static Tensor Source(DType from) => from switch
    {
        DType.Bool => Torch.Tensor(false, true),
        _ when from.IsFloatingPoint() => Torch.Tensor(DTypesReference.FloatEdges).To(from),
        _ => Torch.Tensor(DTypesReference.IntEdges).To(from),
    };

    // Bit-exact, so −0.0 and +0.0 differ; every NaN matches every NaN (payloads are not PyTorch's contract).
    static void AssertSame(double[] expected, double[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = double.IsNaN(expected[i]) ? double.IsNaN(actual[i]) : BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]);
            Assert.True(same, $"{what}: element {i} is {actual[i]:G17}, libtorch gives {expected[i]:G17}");
        }
    }

    public static TheoryData<DType, DType> Pairs()
    {
        var data = new TheoryData<DType, DType>();
        foreach (var a in DTypeExtensions.All) foreach (var b in DTypeExtensions.All) data.Add(a, b);
        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void To_converts_edge_values_as_libtorch(DType from, DType to)
        => AssertSame(DTypesReference.Conversions[(from, to)], Source(from).To(to).ToDoubleArray(), $"{from} → {to}");

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Promote_matches_torch_promote_types(DType a, DType b)
    {
        var expected = DTypesReference.PromoteTypes[(a, b)];
        if (expected == "Int16")
        {
            var ex = Assert.Throws<NotSupportedException>(() => DTypeExtensions.Promote(a, b));
            Assert.Contains("torch.int16", ex.Message);
            Assert.Throws<NotSupportedException>(() => Torch.Ones([2], a) * Torch.Ones([2], b));
            return;
        }
        Assert.Equal(expected, DTypeExtensions.Promote(a, b).ToString());
        if (a != DType.Bool || b != DType.Bool) Assert.Equal(expected, (Torch.Ones([2], a) * Torch.Ones([2], b)).DType.ToString());
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_zero_dim_operand_promotes_only_across_categories(DType a, DType b)
    {
        var expected = DTypesReference.WithZeroDim[(a, b)];
        var x = Torch.Ones([2], a); var s = Torch.Ones([], b);
        if (expected.StartsWith("error", StringComparison.Ordinal)) { Assert.ThrowsAny<Exception>(() => x + s); return; }
        var y = a == DType.Bool && b == DType.Bool ? x.LogicalAnd(s) : x + s;
        Assert.Equal(expected, y.DType.ToString());
    }

    static readonly double[] AValues = [3, 100, -7, 0.5, 250, -128, 1e4, 65000];
    static readonly double[] BValues = [2, 100, 3, 0.25, 10, -1, 0.1, 2];

    static Tensor Op(string op, Tensor a, Tensor b) => op switch
    {
        "add" => a + b, "sub" => a - b, "mul" => a * b, "div" => a / b, "maximum" => a.Maximum(b),
        "neg" => -a, "abs" => a.Abs(), "sum" => a.Sum(), "sum_dim1" => a.Sum(1), "prod_dim1" => b.Prod(1),
        "amax_dim0" => a.Amax([0]), "argmax_dim1" => a.ArgMax(1), "lt" => a.Lt(b), "eq" => a.Eq(b),
        "add_scalar_int" => a + 7L, "mul_scalar_float" => a * 0.1, "cat_dim0" => Torch.Cat([a, b], 0),
        "stack_dim1" => Torch.Stack([a, b], 1), "where" => Torch.Where(a.Gt(b), a, b), "transpose_contiguous" => a.T.Contiguous(),
        "index_select" => a.IndexSelect(1, Torch.Tensor(3L, 0L, 0L)), "sort_dim1" => a.Sort(1).Values,
        "exp" => b.Exp(), "sqrt" => b.Abs().Sqrt(), "mean" => a.Mean(), "mean_dim1" => b.Mean(1),
        "softmax_dim1" => b.Softmax(1), "matmul" => a.MatMul(b.T), "sigmoid" => b.Sigmoid(), "relu" => a.Relu(),
        _ => throw new ArgumentException(op),
    };

    // Transcendental float32 kernels differ from libtorch's SLEEF by an ulp, which a half type can turn into one of its own ulps.
    static readonly HashSet<string> Approximate = ["exp", "sqrt", "softmax_dim1", "sigmoid", "mean", "mean_dim1", "matmul"];

    public static TheoryData<string> OpCases()
    {
        var data = new TheoryData<string>();
        foreach (var key in DTypesReference.Ops.Keys) data.Add(key);
        return data;
    }

    [Theory]
    [MemberData(nameof(OpCases))]
    public void Ops_match_libtorch_per_dtype(string key)
    {
        var (expected, expectedType) = DTypesReference.Ops[key];
        int cut = key.LastIndexOf('_');
        var op = key[..cut];
        var dtype = Enum.Parse<DType>(key[(cut + 1)..]);
        var a = Torch.Tensor(AValues).To(dtype).Reshape(2, 4);
        var b = Torch.Tensor(BValues).To(dtype).Reshape(2, 4);
        var y = Op(op, a, b);
        Assert.Equal(expectedType, y.DType.ToString());
        var actual = y.ToDoubleArray();
        if (!Approximate.Contains(op)) { AssertSame(expected, actual, key); return; }
        double rel = dtype switch { DType.Float16 => 1e-3, DType.BFloat16 => 8e-3, DType.Float32 => 1e-6, _ => 1e-12 };
        // Ember's float32 exp flushes results below float32's smallest normal (1.2e-38) to zero, libtorch keeps subnormals
        double abs = dtype == DType.Float64 ? 1e-300 : 1.2e-38;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= rel * Math.Abs(expected[i]) + abs,
                $"{key}: element {i} is {actual[i]:G17}, libtorch gives {expected[i]:G17}");
    }
}
