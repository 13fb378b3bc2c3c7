using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn;

/// <summary>1-d and 3-d max/avg pooling against libtorch (Reference/Nn/pool1d3d.oracle.csx), gradcheck, layers and errors.</summary>
public class VolumetricPoolTests
{
    static Tensor In2(int[] shape, double a) => In(shape, a, scale: 2);

    static Tensor Ties(int[] shape)
    {
        int n = 1;
        foreach (var s in shape) n *= s;
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (i * 7) % 3 == 0 ? 1 : 0;
        return Torch.FromArray(v, shape).RequiresGradInPlace();
    }

    static Tensor[] One(Tensor t) => [t];
    static Tensor[] Pair((Tensor, Tensor) p) => [p.Item1, p.Item2];

    // the same list as pool1d3d.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["max_pool1d"] = (() => [In2([2, 3, 9], 0.9)], a => One(F.MaxPool1d(a[0], 3))),
        ["max_pool1d_all_arguments"] = (() => [In2([2, 2, 10], 1.3)], a => Pair(F.MaxPool1dWithIndices(a[0], 3, 2, 1, 2, ceilMode: true))),
        ["max_pool1d_ties"] = (() => [Ties([1, 2, 9])], a => Pair(F.MaxPool1dWithIndices(a[0], 3, 2, 1))),
        ["avg_pool1d_exclude_pad_ceil"] = (() => [In2([2, 2, 9], 0.7)], a => One(F.AvgPool1d(a[0], 3, 2, 1, ceilMode: true, countIncludePad: false))),
        ["avg_pool1d_include_pad_ceil"] = (() => [In2([1, 2, 8], 1.1)], a => One(F.AvgPool1d(a[0], 4, 3, 2, ceilMode: true, countIncludePad: true))),
        ["max_pool3d"] = (() => [In2([1, 2, 4, 5, 6], 0.9)], a => One(F.MaxPool3d(a[0], 2))),
        ["max_pool3d_all_arguments"] = (() => [In2([1, 2, 5, 6, 7], 1.3)], a => Pair(F.MaxPool3dWithIndices(a[0], (2, 3, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1), ceilMode: true))),
        ["max_pool3d_ties"] = (() => [Ties([1, 1, 4, 4, 5])], a => Pair(F.MaxPool3dWithIndices(a[0], (3, 2, 3), (1, 2, 2), (1, 0, 1)))),
        ["avg_pool3d"] = (() => [In2([1, 2, 4, 5, 6], 0.9)], a => One(F.AvgPool3d(a[0], 2))),
        ["avg_pool3d_exclude_pad_ceil"] = (() => [In2([2, 1, 5, 6, 5], 0.7)], a => One(F.AvgPool3d(a[0], (3, 2, 3), (2, 2, 2), (1, 1, 1), ceilMode: true, countIncludePad: false))),
        ["avg_pool3d_include_pad_ceil"] = (() => [In2([1, 1, 5, 4, 6], 1.7)], a => One(F.AvgPool3d(a[0], (2, 3, 3), (2, 2, 3), (1, 1, 1), ceilMode: true, countIncludePad: true))),
        ["avg_pool3d_divisor_override"] = (() => [In2([1, 2, 4, 5, 6], 1.1)], a => One(F.AvgPool3d(a[0], (2, 3, 2), (1, 1, 1), (1, 1, 1), divisorOverride: 5))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_indices_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(Pool1d3dReference.Cases[name], make(), f, rtol: 1e-12, atol: 1e-14);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(Pool1d3dReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Fact]
    public void Gradcheck_first_and_second_order()
    {
        var x1 = TestUtil.Leaf([2, 2, 9], 11);
        GradCheck.Check(a => F.MaxPool1d(a[0], 3, 2, 1, 2, ceilMode: true), [x1]);
        GradCheck.Check(a => F.AvgPool1d(a[0], 3, 2, 1, ceilMode: true, countIncludePad: false), [x1]);
        var x3 = TestUtil.Leaf([1, 2, 4, 5, 4], 12);
        GradCheck.Check(a => F.MaxPool3d(a[0], (2, 3, 2), (1, 2, 2), (1, 1, 0), (1, 1, 2), ceilMode: true), [x3]);
        GradCheck.Check(a => F.AvgPool3d(a[0], (3, 2, 2), (2, 1, 2), (1, 1, 1), ceilMode: true, countIncludePad: false), [x3]);
        GradCheck.CheckSecondOrder(a => F.AvgPool3d(a[0], 2, divisorOverride: 3).Square().Sum(), [x3]);
        GradCheck.CheckSecondOrder(a => F.MaxPool3d(a[0], 2, padding: 1).Square().Sum(), [x3]);
    }

    [Fact]
    public void Layers_unbatched_input_and_float32_agree_with_the_functional_form()
    {
        var x = Torch.Randn([2, 4, 5, 6], DType.Float32, new Generator(5));     // unbatched [C, D, H, W]
        TestUtil.Close(F.MaxPool3d(x.Unsqueeze(0), 2, padding: 1).Squeeze(0), new MaxPool3d(2, padding: 1).Forward(x), 0, 0);
        TestUtil.Close(F.AvgPool3d(x.Unsqueeze(0), (2, 3, 2), ceilMode: true).Squeeze(0), new AvgPool3d((2, 3, 2), ceilMode: true).Forward(x), 0, 0);
        var s = Torch.Randn([3, 10], DType.Float32, new Generator(6));          // unbatched [C, L]
        TestUtil.Close(F.MaxPool1d(s.Unsqueeze(0), 3, 2).Squeeze(0), new MaxPool1d(3, 2).Forward(s), 0, 0);
        TestUtil.Close(F.AvgPool1d(s.Unsqueeze(0), 4, padding: 2).Squeeze(0), new AvgPool1d(4, padding: 2).Forward(s), 0, 0);
        // float32 against the float64 result
        var avg64 = F.AvgPool3d(x.To(DType.Float64), 2).ToArray<double>();
        TestUtil.Close(avg64, F.AvgPool3d(x, 2), 1e-6, 1e-6);
    }

    [Fact]
    public void Errors_name_the_op()
    {
        Assert.Contains("max_pool3d: expected a 4-D (unbatched) or 5-D (batched) input, got shape [2, 3, 4]",
            Assert.Throws<ArgumentException>(() => F.MaxPool3d(Torch.Zeros(2, 3, 4), 2)).Message);
        Assert.Contains("avg_pool1d: pad should be at most half of effective kernel size, but got pad=2, kernel_size=3",
            Assert.Throws<ArgumentException>(() => F.AvgPool1d(Torch.Zeros(1, 1, 8), 3, padding: 2)).Message);
        Assert.Contains("avg_pool3d: divisor must be not zero",
            Assert.Throws<ArgumentException>(() => F.AvgPool3d(Torch.Zeros(1, 1, 4, 4, 4), 2, divisorOverride: 0)).Message);
    }
}
