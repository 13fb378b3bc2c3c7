using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Tests.Nn;

public class SoftmaxFocalLossTests
{
    static readonly double[] Logits = [1.0, -0.5, 2.0, 0.3, 0.3, -1.2];
    static readonly long[] Classes = [2, 0];

    [Fact]
    public void MatchesTheFormulaWrittenOut()
    {
        var x = Torch.FromArray(Logits, [2, 3]);
        var t = Torch.FromArray(Classes, [2]);
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            var row = Logits.Skip(3 * i).Take(3).ToArray();
            double z = row.Sum(Math.Exp);
            double p = Math.Exp(row[Classes[i]]) / z;
            expected += -Math.Pow(1 - p, 2) * Math.Log(p);
        }
        Assert.Equal(expected / 2, F.SoftmaxFocalLoss(x, t).Item(), 12);
        Assert.Equal(expected, F.SoftmaxFocalLoss(x, t, reduction: Reduction.Sum).Item(), 12);
    }

    [Fact]
    public void GammaZeroIsTheCrossEntropyAndSoftTargetsMatchOneHot()
    {
        var x = Torch.FromArray(Logits, [2, 3]);
        var t = Torch.FromArray(Classes, [2]);
        Assert.Equal(F.CrossEntropy(x, t).Item(), F.SoftmaxFocalLoss(x, t, gamma: 0).Item(), 12);
        var oneHot = Torch.OneHot(t, 3).To(DType.Float64);
        Assert.Equal(F.SoftmaxFocalLoss(x, t, 1.5).Item(), F.SoftmaxFocalLoss(x, oneHot, 1.5).Item(), 12);
    }

    [Fact]
    public void GradientsPassAFiniteDifferenceCheck()
    {
        var x = TestUtil.Leaf([4, 5], seed: 11);
        var t = Torch.FromArray(new long[] { 0, 4, 2, 2 }, [4]);
        GradCheck.Check(xs => F.SoftmaxFocalLoss(xs[0], t, 2), [x]);
        var soft = F.Softmax(TestUtil.Leaf([4, 5], seed: 12), 1).Detach();
        GradCheck.Check(xs => F.SoftmaxFocalLoss(xs[0], soft, 1.5), [TestUtil.Leaf([4, 5], seed: 13)]);
    }

    [Fact]
    public void BadTargetsAreNamedErrors()
    {
        var x = Torch.Zeros([2, 3]);
        var e = Assert.Throws<ArgumentException>(() => F.SoftmaxFocalLoss(x, Torch.Zeros([2])));
        Assert.Contains("softmax_focal_loss: expected int64 class indices of shape [2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.SoftmaxFocalLoss(x, Torch.FromArray(new long[] { 0 }, [1]), gamma: -1));
        Assert.Contains("gamma must be a finite value >= 0", e.Message);
    }
}
