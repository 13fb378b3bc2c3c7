using Ember.Metrics;

namespace Ember.Tests.Metrics;

public class ConfusionMatrixTests
{
    [Fact]
    public void Sklearn_confusion_matrix_example()
    {
        // sklearn.metrics.confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]) = [[2,0,0],[0,0,1],[1,0,2]]
        var cm = new ConfusionMatrix(3);
        cm.Add(new long[] { 0, 0, 2, 2, 0, 2 }, new long[] { 2, 0, 2, 2, 0, 1 });
        long[,] expected = { { 2, 0, 0 }, { 0, 0, 1 }, { 1, 0, 2 } };
        Assert.Equal(expected, cm.ToArray());
        Assert.Equal(2.0 / 3, cm.Normalized()[2, 2], 12);
    }

    [Fact]
    public void Sklearn_precision_recall_fscore_example()
    {
        // sklearn docs: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
        // macro (0.22, 0.33, 0.26), micro (0.33, 0.33, 0.33), weighted (0.22, 0.33, 0.26)
        var cm = new ConfusionMatrix(3);
        cm.Add(new long[] { 0, 2, 1, 0, 0, 1 }, new long[] { 0, 1, 2, 0, 1, 2 });
        Assert.Equal(2.0 / 9, cm.Precision(Average.Macro), 12);
        Assert.Equal(1.0 / 3, cm.Recall(Average.Macro), 12);
        Assert.Equal(4.0 / 15, cm.F1(Average.Macro), 12);
        Assert.Equal(1.0 / 3, cm.Precision(Average.Micro), 12);
        Assert.Equal(1.0 / 3, cm.F1(Average.Micro), 12);
        Assert.Equal(2.0 / 9, cm.Precision(Average.Weighted), 12);
        Assert.Equal(4.0 / 15, cm.F1(Average.Weighted), 12);
        Assert.Equal(2.0 / 3, cm.Precision(0), 12);
        Assert.Equal(0.8, cm.F1(0), 12);
    }

    [Fact]
    public void Update_takes_argmax_of_scores()
    {
        var cm = new ConfusionMatrix(2);
        cm.Update(Torch.Tensor(new float[,] { { 0.2f, 0.8f }, { 0.9f, 0.1f } }), Torch.FromArray(new long[] { 1, 1 }, [2]));
        Assert.Equal(1, cm[1, 1]);
        Assert.Equal(1, cm[1, 0]);
        Assert.Equal(0.5, cm.Accuracy);
    }

    [Fact]
    public void Out_of_range_labels_name_the_sample()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ConfusionMatrix(2).Add(new long[] { 0, 1 }, new long[] { 0, 5 }));
        Assert.Contains("sample 1", ex.Message);
    }
}
