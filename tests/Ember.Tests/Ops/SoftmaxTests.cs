namespace Ember.Tests.Ops;

public class SoftmaxTests
{
    // The seed notes (002) print these tables for softmax / log_softmax along dim 1.
    static readonly Tensor Logits = Torch.Tensor(new float[,] { { 0.1f, 0.2f, 0.9f }, { 0.8f, 0.3f, 0.2f }, { 0.2f, 0.5f, 0.3f } });

    [Fact]
    public void Softmax_matches_the_notes_table()
    {
        var y = Logits.Softmax(1);
        TestUtil.Close([0.2309, 0.2552, 0.5139, 0.4640, 0.2814, 0.2546, 0.2894, 0.3907, 0.3199], y, rtol: 0, atol: 5e-5);
        Assert.Equal("tensor([[0.2309, 0.2552, 0.5139],\n        [0.4640, 0.2814, 0.2546],\n        [0.2894, 0.3907, 0.3199]])", y.ToString());
    }

    [Fact]
    public void LogSoftmax_matches_the_notes_table()
    {
        var y = Logits.LogSoftmax(1);
        TestUtil.Close([-1.4657, -1.3657, -0.6657, -0.7679, -1.2679, -1.3679, -1.2398, -0.9398, -1.1398], y, rtol: 0, atol: 5e-5);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits_and_sums_to_one_on_any_dim()
    {
        var x = Torch.Tensor(new float[,] { { 1000f, 1001f }, { -1000f, -1002f } });
        var y0 = x.Softmax(0);
        var y1 = x.Softmax(1);
        TestUtil.Close([0.26894142, 0.73105858, 0.88079708, 0.11920292], y1, rtol: 1e-6);
        TestUtil.Close([1, 1, 0, 0], y0, atol: 1e-6);
        TestUtil.Close([-1.31326169, -0.31326169], x.LogSoftmax(1).Select(0, 0), rtol: 1e-6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void Softmax_and_log_softmax_pass_gradcheck(int dim)
    {
        var x = TestUtil.Leaf([3, 4, 2], seed: 1);
        Ember.Autograd.GradCheck.Check(xs => xs[0].Softmax(dim), [x]);
        Ember.Autograd.GradCheck.Check(xs => xs[0].LogSoftmax(dim), [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => xs[0].LogSoftmax(dim), [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => xs[0].Softmax(dim), [x]);
    }
}
