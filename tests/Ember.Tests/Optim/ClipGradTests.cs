using Ember.Nn;
using Ember.Nn.Utils;

namespace Ember.Tests.Optim;

/// <summary>ClipGradNorm/ClipGradValue against torch.nn.utils (SchedulerReference.Clip*, made by tools/oracle/schedulers.cs).</summary>
public class ClipGradTests
{
    static Parameter[] Params()
    {
        var ps = new[] { new Parameter(Torch.Zeros(2, 3)), new Parameter(Torch.Zeros(4)), new Parameter(Torch.Zeros(1)) };
        int k = 0;
        foreach (var p in ps)
            p.Grad = Torch.FromArray(Enumerable.Range(0, p.NumEl).Select(_ => (float)(Math.Sin(1.3 * k++ + 0.2) * 1.7)).ToArray(), p.Shape.ToArray());
        return ps;
    }

    [Theory]
    [InlineData(1.0, 1.0, "ClipL1Max1")]
    [InlineData(1.0, 100.0, "ClipL1Max100")]
    [InlineData(2.0, 1.0, "ClipL2Max1")]
    [InlineData(2.0, 100.0, "ClipL2Max100")]
    [InlineData(double.PositiveInfinity, 1.0, "ClipInfMax1")]
    [InlineData(double.PositiveInfinity, 100.0, "ClipInfMax100")]
    public void ClipGradNormMatchesPyTorch(double normType, double maxNorm, string name)
    {
        var expected = (double[])typeof(SchedulerReference).GetField(name)!.GetValue(null)!;
        var ps = Params();
        var total = ClipGrad.ClipGradNorm(ps, maxNorm, normType);
        Assert.Equal(DType.Float32, total.DType);
        TestUtil.Close([expected[0]], [total.Item()], rtol: 1e-6, atol: 0);
        TestUtil.Close(expected[1..], ps.SelectMany(p => p.Grad!.ToDoubleArray()).ToArray(), rtol: 1e-6, atol: 1e-7);
    }

    [Fact]
    public void ClipGradValueMatchesPyTorch()
    {
        var ps = Params();
        ClipGrad.ClipGradValue(ps, 0.8);
        TestUtil.Close(SchedulerReference.ClipValue, ps.SelectMany(p => p.Grad!.ToDoubleArray()).ToArray(), rtol: 0, atol: 0);
    }

    [Fact]
    public void ParametersWithoutGradAreIgnoredAndNoneGivesZero()
    {
        var ps = Params();
        var extra = new Parameter(Torch.Ones(5));
        var withExtra = ClipGrad.ClipGradNorm(ps.Append(extra), 1.0).Item();
        Assert.Equal(ClipGrad.ClipGradNorm(Params(), 1.0).Item(), withExtra);
        Assert.Null(extra.Grad);
        Assert.Equal(0.0, ClipGrad.ClipGradNorm([extra], 1.0).Item());
    }

    [Fact]
    public void NonFiniteNormIsAnErrorOnlyWhenAsked()
    {
        var ps = Params();
        ps[1].Grad = Torch.FromArray(new float[] { 1, float.NaN, 0, 0 }, [4]);
        var ex = Assert.Throws<InvalidOperationException>(() => ClipGrad.ClipGradNorm(ps, 1.0, errorIfNonfinite: true));
        Assert.Contains("ClipGradNorm", ex.Message);
        Assert.Contains("non-finite", ex.Message);
        Assert.True(double.IsNaN(ClipGrad.ClipGradNorm(ps, 1.0).Item()));
    }
}
