using Ember.Metrics;

namespace Ember.Tests.Metrics;

/// <summary>A diverged model's NaN outputs are wrong predictions for every metric, never hits.</summary>
public class NanPredictionTests
{
    static Tensor Labels(params long[] v) => Torch.FromArray(v, [v.Length]);

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Top_k_counts_a_nan_row_as_wrong(int k)
    {
        var m = new TopKAccuracy(k);
        m.Update(Torch.Full([4, 10], double.NaN), Labels(0, 3, 7, 9));
        Assert.Equal(0.0, m.Compute());
        Assert.Equal(4, m.Count);
    }

    [Fact]
    public void Top_k_counts_a_row_with_one_nan_as_wrong_and_keeps_the_finite_rows()
    {
        var scores = Torch.Tensor(new float[,] { { 0, 5, float.NaN }, { 0, 5, 1 }, { 9, float.NaN, 1 } });
        var m = new TopKAccuracy(1);
        m.Update(scores, Labels(1, 1, 0));
        Assert.Equal(1.0 / 3, m.Compute(), 12);
    }

    [Fact]
    public void Top_k_rejects_a_label_outside_the_classes_instead_of_reading_another_row()
    {
        var m = new TopKAccuracy(1);
        var ex = Assert.Throws<ArgumentException>(() => m.Update(Torch.Tensor(new float[,] { { 1, 0 }, { 0, 1 } }), Labels(0, 2)));
        Assert.Contains("target 2 of sample 1", ex.Message);
        Assert.Throws<ArgumentException>(() => m.Update(Torch.Tensor(new float[,] { { 1, 0 } }), Labels(-1)));
    }

    [Fact]
    public void Confusion_matrix_counts_nan_rows_as_wrong_in_accuracy_recall_and_f1()
    {
        var cm = new ConfusionMatrix(2);
        // sample 0: correct class 0; sample 1: NaN, true class 1; sample 2: NaN at the true class 0 (argmax of garbage could hit it)
        cm.Update(Torch.Tensor(new float[,] { { 2, 1 }, { float.NaN, float.NaN }, { float.NaN, 0 } }), Labels(0, 1, 0));
        Assert.Equal(3, cm.Total);
        Assert.Equal(1.0 / 3, cm.Accuracy, 12);
        Assert.Equal(1, cm.Unpredicted(0));
        Assert.Equal(1, cm.Unpredicted(1));
        Assert.Equal(0.5, cm.Recall(0), 12);   // 1 of the 2 class-0 samples
        Assert.Equal(0.0, cm.Recall(1), 12);
        Assert.Equal(1.0, cm.Precision(0), 12); // the only class-0 prediction was right
        Assert.Equal(2.0 * 1 * 0.5 / 1.5, cm.F1(0), 12);
        Assert.Equal(1.0 / 3, cm.F1(Average.Micro), 12);
        Assert.Equal(1, cm[0, 0]); // only the finite row is on the diagonal
        cm.Reset();
        Assert.Equal(0, cm.Total);
    }

    [Fact]
    public void Confusion_matrix_all_nan_scores_zero_not_a_class()
    {
        var cm = new ConfusionMatrix(3);
        cm.Update(Torch.Full([6, 3], double.NaN), Labels(0, 0, 1, 1, 2, 2));
        Assert.Equal(0.0, cm.Accuracy);
        Assert.Equal(0.0, cm.F1(Average.Macro));
        Assert.Equal(0.0, cm.Recall(Average.Weighted));
    }

    [Fact]
    public void Confusion_matrix_nan_predicted_index_is_wrong()
    {
        var cm = new ConfusionMatrix(2);
        cm.Update(Torch.Tensor(0f, float.NaN), Labels(0, 1));
        Assert.Equal(0.5, cm.Accuracy, 12);
        Assert.Equal(1, cm.Unpredicted(1));
    }

    [Fact]
    public void Confusion_matrix_argmax_matches_the_tensor_argmax_on_finite_scores_with_ties()
    {
        var scores = Torch.Tensor(new float[,] { { 1, 3, 3 }, { 5, 5, 0 }, { -1, -2, -0.5f } });
        var cm = new ConfusionMatrix(3);
        cm.Update(scores, Labels(1, 0, 2));
        var argmax = scores.ArgMax(1).ToArray<long>();
        Assert.Equal([1L, 0, 2], argmax);
        Assert.Equal(1.0, cm.Accuracy);
    }

    [Fact]
    public void Auc_ranks_a_nan_positive_below_and_a_nan_negative_above_everything()
    {
        // finite scores alone would give AUC 1; each NaN sample must count against the model
        double[] scores = [0.9, 0.8, 0.1, 0.2, double.NaN, double.NaN];
        bool[] positive = [true, true, false, false, true, false];
        // 3 positives × 3 negatives = 9 pairs; right: the 2 finite positives over the 2 finite negatives = 4
        Assert.Equal(4.0 / 9, RocAuc.Auc(scores, positive), 12);
    }

    [Fact]
    public void Auc_of_all_nan_scores_is_zero_not_one_half_or_one()
    {
        Assert.Equal(0.0, RocAuc.Auc([double.NaN, double.NaN, double.NaN, double.NaN], [true, false, true, false]), 12);
        var metric = new RocAuc();
        metric.Update(Torch.Full([4, 3], double.NaN), Labels(0, 1, 2, 0));
        Assert.Equal(0.0, metric.Compute(), 12);
    }

    [Fact]
    public void Auc_without_nan_is_unchanged_including_ties()
    {
        // sklearn.metrics.roc_auc_score([1,0,1,0,1], [0.5,0.5,0.9,0.1,0.3]) = 0.75 (pairs: 0.5/0.5 tie counts half)
        Assert.Equal(0.75, RocAuc.Auc([0.5, 0.5, 0.9, 0.1, 0.3], [true, false, true, false, true]), 12);
    }
}
