using Ember.Nn;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn.Losses;

/// <summary>The numbers the seed notes print (001: BCE, BCEWithLogits, CrossEntropy with and without label smoothing).</summary>
public class SeedNotesTests
{
    [Fact]
    public void BCELoss_of_the_notes_is_0_1839()
    {
        var yPred = Torch.Tensor(0.9f, 0.2f, 0.8f).RequiresGradInPlace();
        var y = Torch.Tensor(1f, 0f, 1f);
        var loss = new BCELoss().Forward(yPred, y);
        // the notes: −(log 0.9 + log(1 − 0.2) + log 0.8) / 3
        Assert.Equal(0.1839, loss.Item(), 4);
        TestUtil.Close([-(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.8)) / 3], loss, rtol: 1e-6);
        Assert.StartsWith("tensor(0.1839", loss.ToString());
    }

    [Fact]
    public void BCEWithLogitsLoss_of_the_notes_is_0_6486()
    {
        var input = Torch.Tensor(-0.0371f, 0.5324f, 0.1517f);
        var target = Torch.Tensor(1f, 1f, 0f);
        var loss = new BCEWithLogitsLoss().Forward(input, target);
        Assert.Equal(0.6486, loss.Item(), 4);
        // the notes' hand computation through the sigmoid gives 0.6485693147582109
        TestUtil.Close([0.6485693147582109], loss, rtol: 1e-6);
    }

    [Fact]
    public void CrossEntropyLoss_of_the_notes_is_0_7912_and_0_8945_with_label_smoothing_0_3()
    {
        var yPred = Torch.Tensor(new float[,] { { 0.1f, 0.2f, 0.9f }, { 0.8f, 0.3f, 0.2f }, { 0.2f, 0.5f, 0.3f } });
        var y = Torch.Tensor(2L, 0L, 1L);
        Assert.Equal(0.7912, new CrossEntropyLoss().Forward(yPred, y).Item(), 4);
        var logits = yPred.Detach().RequiresGradInPlace();
        var smoothed = new CrossEntropyLoss(labelSmoothing: 0.3).Forward(logits, y);
        Assert.Equal(0.8945, smoothed.Item(), 4);
        // the gradient torch-oracle's example.cs prints for the smoothed loss
        smoothed.Backward();
        TestUtil.Close([0.043636, 0.051731, -0.095368, -0.112012, 0.060469, 0.051543, 0.063144, -0.136435, 0.073291], logits.Grad!, rtol: 0, atol: 1e-6);
    }

    [Fact]
    public void Label_smoothing_equals_cross_entropy_against_smoothed_one_hot_targets_without_weights()
    {
        var x = Torch.Randn([4, 5], DType.Float64, new Generator(1));
        var t = Torch.Tensor(0L, 4L, 2L, 2L);
        const double eps = 0.3;
        var soft = Torch.OneHot(t, 5).To(DType.Float64) * (1 - eps) + eps / 5;
        TestUtil.Close(Ember.Nn.Functional.F.CrossEntropy(x, soft), Ember.Nn.Functional.F.CrossEntropy(x, t, labelSmoothing: eps), rtol: 1e-12);
        Assert.Equal(Reduction.Mean, new CrossEntropyLoss().Reduction);
    }
}
