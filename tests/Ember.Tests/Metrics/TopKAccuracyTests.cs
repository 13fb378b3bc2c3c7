using Ember.Metrics;

namespace Ember.Tests.Metrics;

public class TopKAccuracyTests
{
    [Fact]
    public void A_label_ranked_third_counts_for_top5_but_not_top1()
    {
        // sample 0: label 2 is ranked third; sample 1: label 0 is ranked first
        var scores = Torch.Tensor(new float[,] { { 0.9f, 0.8f, 0.7f, 0.1f, 0.0f, 0.05f }, { 0.6f, 0.1f, 0.1f, 0.1f, 0.05f, 0.05f } });
        var labels = Torch.FromArray(new long[] { 2, 0 }, [2]);
        var top1 = new TopKAccuracy(1); var top5 = new TopKAccuracy(5);
        top1.Update(scores, labels); top5.Update(scores, labels);
        Assert.Equal(0.5, top1.Compute());
        Assert.Equal(1.0, top5.Compute());
    }

    [Fact]
    public void Streaming_updates_accumulate_and_reset_clears()
    {
        var m = new TopKAccuracy(1);
        m.Update(Torch.Tensor(new float[,] { { 1, 0 }, { 0, 1 } }), Torch.FromArray(new long[] { 0, 0 }, [2]));
        m.Update(Torch.Tensor(new float[,] { { 1, 0 } }), Torch.FromArray(new long[] { 0 }, [1]));
        Assert.Equal(2.0 / 3, m.Compute(), 12);
        m.Reset();
        Assert.Equal(0, m.Count);
    }

    [Fact]
    public void Mismatched_targets_are_rejected_with_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TopKAccuracy().Update(Torch.Zeros(3, 4), Torch.FromArray(new long[] { 0, 1 }, [2])));
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[2]", ex.Message);
    }
}
