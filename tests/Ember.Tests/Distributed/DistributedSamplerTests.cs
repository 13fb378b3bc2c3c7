using Ember.Data;
using Ember.Distributed;

namespace Ember.Tests.Distributed;

public class DistributedSamplerTests
{
    static int[][] Shares(int count, int replicas, bool shuffle = true, long seed = 0, int epoch = 0, bool dropLast = false)
    {
        var shares = new int[replicas][];
        for (int r = 0; r < replicas; r++)
        {
            var s = new DistributedSampler(count, replicas, r, shuffle, seed, dropLast);
            s.SetEpoch(epoch);
            shares[r] = s.Indices(new Generator(99)).ToArray();
        }
        return shares;
    }

    [Theory]
    [InlineData(12, 3)]
    [InlineData(10, 2)]
    [InlineData(7, 7)]
    public void RanksTogetherCoverEveryIndexExactlyOnceWhenDivisible(int count, int replicas)
    {
        var shares = Shares(count, replicas);
        foreach (var share in shares) Assert.Equal(count / replicas, share.Length);
        var all = shares.SelectMany(s => s).OrderBy(i => i).ToArray();
        Assert.Equal(Enumerable.Range(0, count), all);
    }

    [Fact]
    public void WithoutShuffleRankRTakesEveryRthIndexAndPadsFromTheStart()
    {
        // PyTorch: indices = [0..9] + [0, 1] (padded to 12), rank r takes positions r, r+3, r+6, r+9.
        var shares = Shares(10, 3, shuffle: false);
        Assert.Equal([0, 3, 6, 9], shares[0]);
        Assert.Equal([1, 4, 7, 0], shares[1]);
        Assert.Equal([2, 5, 8, 1], shares[2]);
    }

    [Fact]
    public void PaddingRepeatsTheShuffledOrdersHeadSoEveryIndexAppearsAndEveryRankGetsAsMany()
    {
        var shares = Shares(10, 4, seed: 3);
        foreach (var share in shares) Assert.Equal(3, share.Length);
        var all = shares.SelectMany(s => s).ToArray();
        Assert.Equal(12, all.Length);
        Assert.Equal(Enumerable.Range(0, 10), all.Distinct().OrderBy(i => i));
        // The two padded positions (10 and 11 of the global order) repeat positions 0 and 1.
        var sampler = new DistributedSampler(10, 4, 0, shuffle: true, seed: 3);
        var order = sampler.GlobalOrder();
        Assert.Equal(order[0], order[10]);
        Assert.Equal(order[1], order[11]);
    }

    [Fact]
    public void PaddingCyclesWhenTheDataSetIsSmallerThanThePadding()
    {
        // 2 items over 5 ranks: PyTorch pads [a, b] to [a, b, a, b, a].
        var shares = Shares(2, 5, shuffle: false);
        Assert.Equal([[0], [1], [0], [1], [0]], shares);
    }

    [Fact]
    public void DropLastCutsTheTailInsteadOfPadding()
    {
        var shares = Shares(10, 3, shuffle: false, dropLast: true);
        Assert.Equal([[0, 3, 6], [1, 4, 7], [2, 5, 8]], shares);
        var shuffled = Shares(10, 3, seed: 5, dropLast: true).SelectMany(s => s).ToArray();
        Assert.Equal(9, shuffled.Length);
        Assert.Equal(9, shuffled.Distinct().Count());
        Assert.Equal(3, new DistributedSampler(10, 3, 0, dropLast: true).Count);
        Assert.Equal(4, new DistributedSampler(10, 3, 0, dropLast: false).Count);
        Assert.Equal(0, new DistributedSampler(2, 5, 4, dropLast: true).Count);
    }

    [Fact]
    public void SetEpochReshufflesTheSameWayOnEveryRank()
    {
        var epoch0 = Shares(100, 2, seed: 1, epoch: 0);
        var epoch1 = Shares(100, 2, seed: 1, epoch: 1);
        Assert.NotEqual(epoch0[0], epoch1[0]);
        Assert.Equal(epoch1[0], Shares(100, 2, seed: 1, epoch: 1)[0]);
        // Whatever the epoch, the ranks' shares stay disjoint and complete.
        Assert.Equal(Enumerable.Range(0, 100), epoch1.SelectMany(s => s).OrderBy(i => i));
    }

    [Fact]
    public void TheGlobalOrderForASeedDoesNotDependOnTheWorldSize()
    {
        // Interleaving the ranks' shares (position p of rank r is global position p·R + r) gives one order for any R.
        int[] Interleave(int[][] shares)
        {
            var order = new int[shares.Length * shares[0].Length];
            for (int r = 0; r < shares.Length; r++)
                for (int p = 0; p < shares[r].Length; p++) order[p * shares.Length + r] = shares[r][p];
            return order;
        }
        var one = Shares(24, 1, seed: 8, epoch: 2)[0];
        Assert.Equal(one, Interleave(Shares(24, 2, seed: 8, epoch: 2)));
        Assert.Equal(one, Interleave(Shares(24, 4, seed: 8, epoch: 2)));
        Assert.NotEqual(Enumerable.Range(0, 24), one);
    }

    [Fact]
    public void TheLoadersGeneratorDoesNotChangeTheOrder()
    {
        var s = new DistributedSampler(50, 2, 1, seed: 4);
        Assert.Equal(s.Indices(new Generator(1)), s.Indices(new Generator(2)));
    }

    [Fact]
    public void BadArgumentsAreRejectedWithTheirValues()
    {
        var e = Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 2, 2));
        Assert.Contains("invalid rank 2", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        Assert.Contains("numReplicas must be positive, got 0", Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 0, 0)).Message);
        // Without explicit rank/replicas the sampler needs the process group.
        Assert.Contains("InitProcessGroup", Assert.Throws<InvalidOperationException>(() => new DistributedSampler(10)).Message);
    }

    [Fact]
    public void WorksWithTheDataLoader()
    {
        var dataset = new TensorDataset(Torch.Arange(0, 10, 1, DType.Float32));
        var sampler = new DistributedSampler(10, 2, 1, shuffle: false);
        var loader = new DataLoader<Tensor[]>(dataset, batchSize: 2, sampler: sampler);
        var seen = loader.SelectMany(b => b[0].ToDoubleArray()).ToArray();
        Assert.Equal([1.0, 3, 5, 7, 9], seen);
    }
}
