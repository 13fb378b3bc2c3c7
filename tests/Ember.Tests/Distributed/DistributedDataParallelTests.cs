using Ember.Distributed;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Distributed;

/// <summary>The parts of DDP that need no second process: the model signature and the mismatch message.</summary>
public class DistributedDataParallelTests
{
    sealed class Net : Module
    {
        public Net(int hidden, bool norm)
        {
            RegisterModule("fc", new Linear(3, hidden));
            if (norm) RegisterModule("bn", new BatchNorm1d(hidden));
        }
    }

    [Fact]
    public void TheSignatureListsParametersThenBuffersWithShapeAndDType()
    {
        var entries = DistributedDataParallel.Signature(new Net(4, norm: true));
        Assert.Equal("parameter 'fc.weight' of shape [4, 3] (torch.float32)", entries[0]);
        Assert.Equal("parameter 'fc.bias' of shape [4] (torch.float32)", entries[1]);
        Assert.Contains("buffer 'bn.num_batches_tracked' of shape [] (torch.int64)", entries);
    }

    [Fact]
    public void AShapeDifferenceNamesTheRankTheParameterAndBothShapes()
    {
        var rank0 = DistributedDataParallel.Signature(new Net(4, norm: false)).ToArray();
        var rank2 = DistributedDataParallel.Signature(new Net(5, norm: false)).ToArray();
        Assert.Null(DistributedDataParallel.Describe(rank0, rank0, 1));
        Assert.Equal("rank 2 has parameter 'fc.weight' of shape [5, 3] (torch.float32) where rank 0 has parameter 'fc.weight' of shape [4, 3] (torch.float32)",
            DistributedDataParallel.Describe(rank0, rank2, 2));
    }

    [Fact]
    public void ACountDifferenceNamesTheFirstExtraOrMissingEntry()
    {
        var plain = DistributedDataParallel.Signature(new Net(4, norm: false)).ToArray();
        var normed = DistributedDataParallel.Signature(new Net(4, norm: true)).ToArray();
        var extra = DistributedDataParallel.Describe(plain, normed, 1)!;
        Assert.StartsWith($"rank 1 has {normed.Length} parameters and buffers, rank 0 has {plain.Length}; the first extra on rank 1 is parameter 'bn.weight'", extra);
        var missing = DistributedDataParallel.Describe(normed, plain, 3)!;
        Assert.Contains("rank 3 lacks parameter 'bn.weight'", missing);
    }
}
