using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class ClassPriorBiasTests
{
    static readonly long[] Counts = [900, 90, 9, 1];   // 1:100 imbalance between the largest and smallest class

    [Fact]
    public void SoftmaxOfTheInitialOutputIsTheClassFrequency()
    {
        var layer = new Linear(5, 4);
        Init.Zeros(layer.Weight);
        Init.ClassPriorBias(layer.Bias!, Counts);
        var probs = F.Softmax(layer.Forward(Torch.Randn([3, 5])), 1);
        var expected = Enumerable.Repeat(Counts.Select(c => c / 1000.0), 3).SelectMany(p => p).ToArray();
        TestUtil.Close(expected, probs, rtol: 1e-5, atol: 1e-7);
    }

    [Fact]
    public void SigmoidOfEachOutputIsThatClassFrequency()
    {
        var bias = Torch.Zeros([4], DType.Float64);
        Init.ClassPriorBias(bias, Counts, sigmoid: true);
        TestUtil.Close(Counts.Select(c => c / 1000.0).ToArray(), bias.Sigmoid(), rtol: 1e-12, atol: 0);
        // b = log(p / (1 − p)): the rarest class (p = 0.001) starts near −6.9, as YOLOv5's log(8 / (640/s)²)-style prior does.
        Assert.Equal(Math.Log(0.001 / 0.999), bias.ToDoubleArray()[3], 12);
    }

    [Fact]
    public void WrongShapesAndEmptyClassesAreErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => Init.ClassPriorBias(Torch.Zeros([3]), Counts));
        Assert.Contains("bias has shape [3], expected [4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Init.ClassPriorBias(Torch.Zeros([2]), [5, 0]));
        Assert.Contains("class 1 has 0 samples", e.Message);
    }
}
