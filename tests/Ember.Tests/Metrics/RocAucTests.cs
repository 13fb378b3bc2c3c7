using Ember.Metrics;

namespace Ember.Tests.Metrics;

public class RocAucTests
{
    [Fact]
    public void Sklearn_roc_curve_example()
    {
        // sklearn docs: y = [1, 1, 2, 2] (pos_label 2), scores = [0.1, 0.4, 0.35, 0.8]
        // fpr = [0, 0, 0.5, 0.5, 1], tpr = [0, 0.5, 0.5, 1, 1], thresholds = [inf, 0.8, 0.4, 0.35, 0.1]; AUC 0.75
        double[] scores = [0.1, 0.4, 0.35, 0.8];
        bool[] positive = [false, false, true, true];
        var (fpr, tpr, thresholds) = RocAuc.Curve(scores, positive);
        Assert.Equal([0, 0, 0.5, 0.5, 1], fpr);
        Assert.Equal([0, 0.5, 0.5, 1, 1], tpr);
        Assert.Equal([double.PositiveInfinity, 0.8, 0.4, 0.35, 0.1], thresholds);
        Assert.Equal(0.75, RocAuc.Auc(scores, positive), 12);
    }

    [Fact]
    public void Tied_scores_give_a_diagonal_segment()
    {
        Assert.Equal(0.5, RocAuc.Auc([0.5, 0.5, 0.5, 0.5], [true, false, true, false]), 12);
    }

    [Fact]
    public void One_vs_rest_macro_average_over_classes()
    {
        var m = new RocAuc();
        // perfect separation for every class
        m.Update(Torch.Tensor(new float[,] { { 0.8f, 0.1f, 0.1f }, { 0.1f, 0.8f, 0.1f }, { 0.1f, 0.1f, 0.8f }, { 0.7f, 0.2f, 0.1f } }),
            Torch.FromArray(new long[] { 0, 1, 2, 0 }, [4]));
        Assert.Equal(1.0, m.Compute(), 12);
    }

    [Fact]
    public void Single_class_targets_are_an_error()
    {
        Assert.Throws<InvalidOperationException>(() => RocAuc.Auc([0.1, 0.2], [true, true]));
    }
}
