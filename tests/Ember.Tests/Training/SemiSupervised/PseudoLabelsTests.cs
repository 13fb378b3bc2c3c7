using Ember.Data;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Training.SemiSupervised;

namespace Ember.Tests.Training.SemiSupervised;

public class PseudoLabelsTests
{
    // Inputs that are their own logits (an Identity model): the softmax of two logits (a, b) is 1 / (1 + e^−|a−b|) for
    // the larger one, so a gap of 3 gives 0.9526 and a gap of 2.9 gives 0.9478, either side of 0.95.
    static readonly float[][] Logits = [[3, 0], [0, 2.9f], [0, 5], [1, 1], [-1, 1.5f]];

    static IDataset<Tensor> Images() => new TransformDataset<int, Tensor>(new Indices(Logits.Length), (i, _) => Torch.FromArray(Logits[i], [2]));

    [Fact]
    public void KeepsTheConfidentImagesWithTheirPredictedClassInIndexOrder()
    {
        var model = new Identity();
        model.Train();
        var set = PseudoLabels.Select(model, Images(), threshold: 0.95, batchSize: 2); // batches of 2 cross the boundary
        Assert.Equal([0, 2], set.Indices);
        Assert.Equal([0L, 1L], set.Labels);
        Assert.Equal(1 / (1 + Math.Exp(-3)), set.Confidences[0], 1e-6);
        Assert.Equal(1 / (1 + Math.Exp(-5)), set.Confidences[1], 1e-6);
        Assert.Equal(5, set.Candidates);
        Assert.True(model.Training); // the mode is restored

        // the gap-2.9 (0.9478) and gap-2.5 (0.9241) images pass a 0.9 threshold; the tie [1, 1] (0.5) never does
        var looser = PseudoLabels.Select(model, Images(), threshold: 0.9);
        Assert.Equal([0, 1, 2, 4], looser.Indices);
        Assert.Equal([0L, 1L, 1L, 1L], looser.Labels);
        Assert.Equal(0.75, looser.Precision([0, 1, 0, 0, 1]), 12); // index 2's true class is 0 here: 3 of 4 right
    }

    [Fact]
    public void TheModelIsRunInEvaluationMode()
    {
        // dropout with p = 1 zeroes everything in training, which would make every softmax uniform (0.5 < 0.95)
        var model = new Sequential(new Dropout(0.999999));
        model.Train();
        Assert.Equal([0, 2], PseudoLabels.Select(model, Images(), 0.95).Indices);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void AThresholdOutsideZeroToOneIsAnError(double threshold)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PseudoLabels.Select(new Identity(), Images(), threshold));
        Assert.Contains("threshold must be in (0, 1]", e.Message);
    }

    sealed class Indices(int count) : IDataset<int>
    {
        public int Count => count;
        public int this[int index] => index;
    }
}
