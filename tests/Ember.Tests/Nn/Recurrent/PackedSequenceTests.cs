using Ember.Nn.Utils;

namespace Ember.Tests.Nn.Recurrent;

/// <summary>PackPaddedSequence / PadPackedSequence / PackSequence / PadSequence on hand-worked examples.</summary>
public class PackedSequenceTests
{
    /// <summary>[L = 3, N = 3, 1] with value 10·t + b.</summary>
    static Tensor Steps() => (Torch.Arange(0.0, 3, 1).Reshape(3, 1, 1) * 10 + Torch.Arange(0.0, 3, 1).Reshape(1, 3, 1));

    [Fact]
    public void PacksSortedBatchStepByStep()
    {
        var p = RnnUtils.PackPaddedSequence(Steps(), [3, 2, 1]);
        Assert.Equal([0, 1, 2, 10, 11, 20], p.Data.ToDoubleArray());
        Assert.Equal([3, 2, 1], p.BatchSizes.ToArray<long>());
        Assert.Null(p.SortedIndices);
    }

    [Fact]
    public void SortsUnsortedBatchAndPadsBackInOriginalOrder()
    {
        var p = RnnUtils.PackPaddedSequence(Steps(), [1, 3, 2], enforceSorted: false);
        Assert.Equal([1, 2, 0, 11, 12, 21], p.Data.ToDoubleArray());
        Assert.Equal([3, 2, 1], p.BatchSizes.ToArray<long>());
        Assert.Equal([1, 2, 0], p.SortedIndices!.ToArray<long>());
        Assert.Equal([2, 0, 1], p.UnsortedIndices!.ToArray<long>());
        var (padded, lengths) = RnnUtils.PadPackedSequence(p, paddingValue: -1, totalLength: 4);
        Assert.Equal([1, 3, 2], lengths.ToArray<long>());
        Assert.Equal([4, 3, 1], padded.Shape.ToArray());
        Assert.Equal([0, 1, 2, -1, 11, 12, -1, 21, -1, -1, -1, -1], padded.ToDoubleArray());
    }

    [Fact]
    public void BatchFirstRoundTripAndGradientSkipsPadding()
    {
        var x = Steps().Transpose(0, 1).Contiguous().RequiresGradInPlace();   // [N, L, 1]
        var p = RnnUtils.PackPaddedSequence(x, [2, 3, 1], batchFirst: true, enforceSorted: false);
        Assert.Equal([1, 0, 2, 11, 10, 21], p.Data.ToDoubleArray());
        var (padded, _) = RnnUtils.PadPackedSequence(p, batchFirst: true);
        Assert.Equal([3, 3, 1], padded.Shape.ToArray());
        Assert.Equal([0, 10, 0, 1, 11, 21, 2, 0, 0], padded.ToDoubleArray());
        padded.Sum().Backward();
        Assert.Equal([1, 1, 0, 1, 1, 1, 1, 0, 0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void PackSequenceAndPadSequence()
    {
        var a = Torch.Tensor(1f, 2f, 3f).Reshape(3, 1);
        var b = Torch.Tensor(4f).Reshape(1, 1);
        var padded = RnnUtils.PadSequence([a, b], batchFirst: true, paddingValue: 9);
        Assert.Equal([1, 2, 3, 4, 9, 9], padded.ToDoubleArray());
        var p = RnnUtils.PackSequence([b, a], enforceSorted: false);
        Assert.Equal([1, 4, 2, 3], p.Data.ToDoubleArray());
        Assert.Equal([2, 1, 1], p.BatchSizes.ToArray<long>());
    }

    [Fact]
    public void BadLengthsAreNamed()
    {
        var x = Torch.Zeros(5, 3, 2);
        var e = Assert.ThrowsAny<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, [5, 7, 2]));
        Assert.Contains("pack_padded_sequence", e.Message);
        Assert.Contains("lengths[1] = 7", e.Message);
        Assert.Contains("5 time steps", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, [2, 5, 1]));
        Assert.Contains("sorted in decreasing order", e.Message);
        Assert.Contains("[2, 5, 1]", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, [2, 1]));
        Assert.Contains("expected 3 lengths", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => RnnUtils.PackPaddedSequence(x, [3, 0, 1]));
        Assert.Contains("greater than 0", e.Message);
        var p = RnnUtils.PackPaddedSequence(x, [5, 2, 1]);
        e = Assert.ThrowsAny<ArgumentException>(() => RnnUtils.PadPackedSequence(p, totalLength: 3));
        Assert.Contains("total_length", e.Message);
    }
}
