using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>SyncBatchNorm in one process; the multi-rank equivalence runs under mpirun (Distributed.MultiProcessTests).</summary>
public class SyncBatchNormTests
{
    [Theory]
    [InlineData(new[] { 6, 3 })]
    [InlineData(new[] { 4, 3, 7 })]
    [InlineData(new[] { 2, 3, 4, 5, 2 })]
    public void WithoutAProcessGroupItIsABatchNormOverTheLocalBatch(int[] shape)
    {
        var sync = new SyncBatchNorm(3);
        var plain = new BatchNorm2d(3);
        var x = TestUtil.Leaf(shape, seed: shape.Length);
        var y = sync.Forward(x);
        var expected = Ember.Nn.Functional.F.BatchNorm(x, plain.RunningMean, plain.RunningVar, plain.Weight, plain.Bias, training: true);
        TestUtil.Close(expected, y, rtol: 0, atol: 0);
        TestUtil.Close(plain.RunningVar!, sync.RunningVar!, rtol: 0, atol: 0);
        Assert.Equal(1.0, sync.NumBatchesTracked!.Item());
    }

    [Fact]
    public void AOneDimensionalInputIsRefusedNamingTheLayer()
    {
        var e = Assert.Throws<ArgumentException>(() => new SyncBatchNorm(3).Forward(Torch.Ones([3])));
        Assert.Contains("SyncBatchNorm: expected at least 2D input (got 1D input", e.Message);
    }

    [Fact]
    public void ConvertSwitchesEveryNestedBatchNormInPlaceAndKeepsTheStateDict()
    {
        var inner = new BatchNorm1d(4);
        var model = new Sequential(new Linear(3, 4), new Sequential(new BatchNorm2d(2), inner), new LayerNorm([4]));
        var keysBefore = model.StateDict().Keys.ToArray();
        Assert.False(inner.SyncAcrossRanks);
        Assert.Same(model, SyncBatchNorm.ConvertSyncBatchNorm(model));
        var norms = model.Modules().OfType<BatchNorm>().ToArray();
        Assert.Equal(2, norms.Length);
        Assert.All(norms, bn => Assert.True(bn.SyncAcrossRanks));
        Assert.Same(inner, norms[1]);
        Assert.Equal(keysBefore, model.StateDict().Keys.ToArray());
    }
}
