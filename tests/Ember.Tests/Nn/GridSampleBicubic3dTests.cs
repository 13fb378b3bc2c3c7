using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn;

/// <summary>
/// F.GridSample's bicubic mode and 5-D (volumetric) input, and 3-D F.AffineGrid, against libtorch
/// (Reference/Nn/grid_sample_bicubic_3d.oracle.csx), with float64 gradchecks.
/// </summary>
public class GridSampleBicubic3dTests
{
    static Tensor In2(int[] shape, double a) => In(shape, a, scale: 2);
    static Tensor Grid(int[] shape, double a) => In(shape, a, scale: 1.3);
    static Tensor[] One(Tensor t) => [t];
    const GridSampleMode Bil = GridSampleMode.Bilinear, Near = GridSampleMode.Nearest, Cub = GridSampleMode.Bicubic;
    const GridSamplePadding Zeros = GridSamplePadding.Zeros, Border = GridSamplePadding.Border, Refl = GridSamplePadding.Reflection;

    // the same list as grid_sample_bicubic_3d.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["bicubic_zeros"] = (() => [In2([2, 2, 4, 5], 0.9), Grid([2, 3, 4, 2], 0.77)], a => One(F.GridSample(a[0], a[1], Cub, Zeros))),
        ["bicubic_zeros_align_corners"] = (() => [In2([2, 2, 4, 5], 0.9), Grid([2, 3, 4, 2], 0.77)], a => One(F.GridSample(a[0], a[1], Cub, Zeros, alignCorners: true))),
        ["bicubic_border"] = (() => [In2([1, 3, 5, 4], 1.1), Grid([1, 4, 3, 2], 0.61)], a => One(F.GridSample(a[0], a[1], Cub, Border))),
        ["bicubic_border_align_corners"] = (() => [In2([1, 3, 5, 4], 1.1), Grid([1, 4, 3, 2], 0.61)], a => One(F.GridSample(a[0], a[1], Cub, Border, alignCorners: true))),
        ["bicubic_reflection"] = (() => [In2([1, 2, 4, 6], 0.7), Grid([1, 5, 3, 2], 1.37)], a => One(F.GridSample(a[0], a[1], Cub, Refl))),
        ["bicubic_reflection_align_corners"] = (() => [In2([1, 2, 4, 6], 0.7), Grid([1, 5, 3, 2], 1.37)], a => One(F.GridSample(a[0], a[1], Cub, Refl, alignCorners: true))),
        ["affine_grid_3d"] = (() => [In2([2, 3, 4], 0.9)], a => One(F.AffineGrid(a[0], [2, 3, 2, 4, 3]))),
        ["affine_grid_3d_align_corners"] = (() => [In2([1, 3, 4], 1.3)], a => One(F.AffineGrid(a[0], [1, 1, 3, 2, 4], alignCorners: true))),
        ["trilinear_zeros"] = (() => [In2([2, 2, 3, 4, 5], 0.9), Grid([2, 2, 3, 4, 3], 0.77)], a => One(F.GridSample(a[0], a[1], Bil, Zeros))),
        ["trilinear_zeros_align_corners"] = (() => [In2([2, 2, 3, 4, 5], 0.9), Grid([2, 2, 3, 4, 3], 0.77)], a => One(F.GridSample(a[0], a[1], Bil, Zeros, alignCorners: true))),
        ["trilinear_border"] = (() => [In2([1, 2, 4, 3, 5], 1.1), Grid([1, 3, 2, 4, 3], 0.61)], a => One(F.GridSample(a[0], a[1], Bil, Border))),
        ["trilinear_reflection"] = (() => [In2([1, 2, 3, 5, 4], 0.7), Grid([1, 2, 4, 3, 3], 1.37)], a => One(F.GridSample(a[0], a[1], Bil, Refl))),
        ["trilinear_reflection_align_corners"] = (() => [In2([1, 2, 3, 5, 4], 0.7), Grid([1, 2, 4, 3, 3], 1.37)], a => One(F.GridSample(a[0], a[1], Bil, Refl, alignCorners: true))),
        ["nearest_3d_zeros"] = (() => [In2([2, 2, 3, 4, 5], 0.9), Grid([2, 2, 3, 4, 3], 0.77)], a => One(F.GridSample(a[0], a[1], Near, Zeros))),
        ["nearest_3d_border_align_corners"] = (() => [In2([1, 2, 4, 3, 5], 1.1), Grid([1, 3, 2, 4, 3], 0.61)], a => One(F.GridSample(a[0], a[1], Near, Border, alignCorners: true))),
        ["spatial_transformer_3d"] = (() => [In2([1, 2, 4, 4, 3], 0.9), In2([1, 3, 4], 0.33)], a => One(F.GridSample(a[0], F.AffineGrid(a[1] * 0.5, [1, 2, 3, 2, 4])))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        var expected = GridSampleBicubic3dReference.Cases[name];
        if (name.StartsWith("nearest"))
        {
            // libtorch hands nearest's grid an all-zero gradient; here the grid is not on the graph at all
            Assert.All(expected.Grads[1]!, g => Assert.Equal(0.0, g));
            expected = expected with { Grads = [expected.Grads[0], null] };
        }
        Check(expected, make(), f);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(GridSampleBicubic3dReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Theory]
    [InlineData(GridSampleMode.Bicubic, GridSamplePadding.Zeros, false)]
    [InlineData(GridSampleMode.Bicubic, GridSamplePadding.Border, true)]
    [InlineData(GridSampleMode.Bicubic, GridSamplePadding.Reflection, false)]
    public void Bicubic_passes_float64_gradcheck(GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        var input = TestUtil.Leaf([1, 2, 4, 5], 31);
        var grid = TestUtil.Leaf([1, 3, 2, 2], 32, scale: 0.8);
        GradCheck.Check(a => F.GridSample(a[0], a[1], mode, padding, alignCorners), [input, grid]);
    }

    [Theory]
    [InlineData(GridSamplePadding.Zeros, false)]
    [InlineData(GridSamplePadding.Border, true)]
    [InlineData(GridSamplePadding.Reflection, false)]
    public void Trilinear_and_affine_grid_3d_pass_float64_gradcheck(GridSamplePadding padding, bool alignCorners)
    {
        var input = TestUtil.Leaf([1, 2, 3, 4, 3], 41);
        var grid = TestUtil.Leaf([1, 2, 2, 3, 3], 42, scale: 0.8);
        GradCheck.Check(a => F.GridSample(a[0], a[1], GridSampleMode.Bilinear, padding, alignCorners), [input, grid]);
        var theta = TestUtil.Leaf([1, 3, 4], 43, scale: 0.5);
        GradCheck.Check(a => F.GridSample(input.Detach(), F.AffineGrid(a[0], [1, 2, 2, 3, 3], alignCorners), paddingMode: padding, alignCorners: alignCorners), [theta]);
    }

    [Fact]
    public void Identity_3d_transform_reproduces_the_volume_and_bicubic_rejects_5d()
    {
        var x = Torch.Randn([2, 3, 3, 4, 5], DType.Float64, new Generator(9));
        var identity = Torch.FromArray(new double[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0 }, [1, 3, 4]).Expand(2, 3, 4);
        foreach (var align in new[] { false, true })
            TestUtil.Close(x, F.GridSample(x, F.AffineGrid(identity, [2, 3, 3, 4, 5], align), alignCorners: align), 1e-12, 1e-12);
        Assert.Contains("grid_sample: bicubic interpolation only supports 4D input",
            Assert.Throws<ArgumentException>(() => F.GridSample(x, Torch.Zeros([2, 1, 1, 1, 3], DType.Float64), GridSampleMode.Bicubic)).Message);
        Assert.Contains("affine_grid: Expected a batch of 3D affine matrices of shape Nx3x4",
            Assert.Throws<ArgumentException>(() => F.AffineGrid(Torch.Zeros(1, 2, 3), [1, 1, 2, 2, 2])).Message);
    }
}
