using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>CmBN: mini-batch t of a window is normalized by the statistics of mini-batches 1…t, checked against BatchNorm on their concatenation.</summary>
public class CrossMiniBatchNormTests
{
    static Tensor[] MiniBatches() =>
        [TestUtil.Leaf([2, 3, 4, 4], seed: 1, scale: 2, shift: 1), TestUtil.Leaf([3, 3, 4, 4], seed: 2, shift: -0.5), TestUtil.Leaf([4, 3, 4, 4], seed: 3, scale: 3)];

    static Tensor LastRows(Tensor t, int rows) => t.Narrow(0, t.Size(0) - rows, rows);

    [Fact]
    public void EachMiniBatchIsNormalizedLikeBatchNormOverTheWindowSoFarWithTheEarlierOnesConstant()
    {
        var batches = MiniBatches();
        var cmbn = new CrossMiniBatchNorm2d(3, accumulationSteps: 3);
        using (Torch.NoGrad()) { cmbn.Weight!.CopyFrom(Torch.FromArray(new float[] { 0.5f, 1.5f, -1f }, [3])); cmbn.Bias!.CopyFrom(Torch.FromArray(new float[] { 0.1f, 0, -0.2f }, [3])); }
        for (int t = 0; t < batches.Length; t++)
        {
            var x = batches[t].Detach().Clone().RequiresGradInPlace();
            var y = cmbn.Forward(x);
            // reference: functional batch norm over the earlier mini-batches (constants) followed by this one
            var xRef = batches[t].Detach().Clone().RequiresGradInPlace();
            var earlier = batches.Take(t).Select(b => b.Detach()).ToArray();
            var all = Torch.Cat([.. earlier, xRef]);
            var yRef = LastRows(F.BatchNorm(all, null, null, cmbn.Weight, cmbn.Bias, training: true), x.Size(0));
            TestUtil.Close(yRef, y, rtol: 1e-5, atol: 1e-5);
            var upstream = TestUtil.Leaf(y.Shape.ToArray(), seed: 10 + t);
            (y * upstream).Sum().Backward();
            (yRef * upstream).Sum().Backward();
            TestUtil.Close(xRef.Grad!, x.Grad!, rtol: 1e-4, atol: 1e-5);
        }
        Assert.Equal(0, cmbn.StepInWindow);
    }

    [Fact]
    public void TheRunningStatisticsMoveOncePerWindowAsBatchNormOnTheConcatenation()
    {
        var batches = MiniBatches();
        var cmbn = new CrossMiniBatchNorm2d(3, accumulationSteps: 3);
        var bn = new BatchNorm2d(3);
        cmbn.Forward(batches[0]);
        cmbn.Forward(batches[1]);
        TestUtil.Close(Torch.Zeros([3]), cmbn.RunningMean!, rtol: 0, atol: 0); // not before the window ends
        cmbn.Forward(batches[2]);
        bn.Forward(Torch.Cat(batches));
        TestUtil.Close(bn.RunningMean!, cmbn.RunningMean!, rtol: 1e-5, atol: 1e-6);
        TestUtil.Close(bn.RunningVar!, cmbn.RunningVar!, rtol: 1e-5, atol: 1e-6);
        Assert.Equal(1.0, cmbn.NumBatchesTracked!.Item());

        cmbn.Eval(); bn.Eval();
        TestUtil.Close(bn.Forward(batches[1]), cmbn.Forward(batches[1]), rtol: 1e-5, atol: 1e-5);
    }

    [Fact]
    public void WithOneStepPerWindowItIsBatchNorm()
    {
        var cmbn = new CrossMiniBatchNorm2d(3, accumulationSteps: 1);
        var bn = new BatchNorm2d(3);
        foreach (var b in MiniBatches()) TestUtil.Close(bn.Forward(b), cmbn.Forward(b), rtol: 1e-5, atol: 1e-5);
        TestUtil.Close(bn.RunningVar!, cmbn.RunningVar!, rtol: 1e-5, atol: 1e-6);
    }

    [Fact]
    public void BadArgumentsNameTheLayer()
    {
        Assert.Contains("CrossMiniBatchNorm2d: accumulation_steps must be at least 1, got 0", Assert.Throws<ArgumentException>(() => new CrossMiniBatchNorm2d(3, 0)).Message);
        Assert.Contains("CrossMiniBatchNorm2d: expected 4D input (got 2D", Assert.Throws<ArgumentException>(() => new CrossMiniBatchNorm2d(3, 2).Forward(Torch.Ones([4, 3]))).Message);
        Assert.Contains("expected input with 3 channels, got 2", Assert.Throws<ArgumentException>(() => new CrossMiniBatchNorm2d(3, 2).Forward(Torch.Ones([4, 2, 2, 2]))).Message);
    }
}
