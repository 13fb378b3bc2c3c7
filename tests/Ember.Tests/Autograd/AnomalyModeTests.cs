using System.Runtime.CompilerServices;
using Ember.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>DetectAnomaly: the first node whose backward returns NaN/Inf is named with the user's line that created it.</summary>
public class AnomalyModeTests
{
    static int Line([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void NanFromSqrtAtZeroNamesSqrtBackwardAndTheForwardLine()
    {
        var x = Torch.Tensor([0.0, 1.0]).RequiresGradInPlace();
        using (Torch.DetectAnomaly())
        {
            var y = x.Sqrt(); int line = Line();
            var loss = (y * 0.0).Sum();   // 0 · ∞ = NaN inside SqrtBackward0
            var e = Assert.Throws<AnomalyException>(() => loss.Backward());
            Assert.Equal("SqrtBackward0", e.NodeName);
            Assert.Equal("nan", e.Kind);
            Assert.Equal(0, e.OutputIndex);
            Assert.StartsWith("Function 'SqrtBackward0' returned nan values in its 0th output.", e.Message);
            Assert.Contains(nameof(NanFromSqrtAtZeroNamesSqrtBackwardAndTheForwardLine), e.CreationSite);
            Assert.EndsWith($"AnomalyModeTests.cs:line {line}", e.CreationSite);
        }
    }

    [Fact]
    public void InfIsFlaggedAtTheFirstNodeNotDownstream()
    {
        var x = Torch.Tensor([0.0, 4.0]).RequiresGradInPlace();
        using var _ = Torch.DetectAnomaly();
        var loss = (x.Sqrt() * 2.0).Exp().Sum();
        var e = Assert.Throws<AnomalyException>(() => loss.Backward());
        Assert.Equal("SqrtBackward0", e.NodeName);
        Assert.Equal("inf", e.Kind);
    }

    [Fact]
    public void OutsideAnomalyModeBackwardFinishesWithNanGradients()
    {
        var x = Torch.Tensor([0.0, 1.0]).RequiresGradInPlace();
        (x.Sqrt() * 0.0).Sum().Backward();
        Assert.True(double.IsNaN(x.Grad!.ToDoubleArray()[0]));
        using (Torch.DetectAnomaly(checkNan: false))
        {
            x.Grad = null;
            (x.Sqrt() * 0.0).Sum().Backward();
            Assert.True(double.IsNaN(x.Grad!.ToDoubleArray()[0]));
        }
        Assert.False(AnomalyMode.IsEnabled);
    }

    [Fact]
    public void NodeRecordedBeforeTheScopeIsNamedWithoutASite()
    {
        var x = Torch.Tensor([0.0]).RequiresGradInPlace();
        var loss = (x.Sqrt() * 0.0).Sum();
        using var _ = Torch.DetectAnomaly();
        var e = Assert.Throws<AnomalyException>(() => loss.Backward());
        Assert.Equal("SqrtBackward0", e.NodeName);
        Assert.Contains("outside anomaly mode", e.CreationSite);
    }
}
