using Ember.Data;
using Ember.Distributed;

namespace Ember.Tests.Distributed;

public class DistributedWeightedSamplerTests
{
    static readonly double[] Weights = [1, 0, 2, 1, 0, 4, 1, 1];

    static int[][] Shares(int numSamples, int replicas, long seed = 0, int epoch = 0, bool dropLast = false, double[]? weights = null)
    {
        var shares = new int[replicas][];
        for (int r = 0; r < replicas; r++)
        {
            var s = new DistributedWeightedSampler(weights ?? Weights, numSamples, replicas, r, seed: seed, dropLast: dropLast);
            s.SetEpoch(epoch);
            shares[r] = s.Indices(new Generator(99 + r)).ToArray();
        }
        return shares;
    }

    // position p of rank r is global position p·R + r
    static int[] Interleave(int[][] shares)
    {
        var order = new int[shares.Length * shares[0].Length];
        for (int r = 0; r < shares.Length; r++)
            for (int p = 0; p < shares[r].Length; p++) order[p * shares.Length + r] = shares[r][p];
        return order;
    }

    [Fact]
    public void TheGlobalDrawForASeedDoesNotDependOnTheWorldSize()
    {
        var one = Shares(24, 1, seed: 5, epoch: 3)[0];
        Assert.Equal(one, Interleave(Shares(24, 2, seed: 5, epoch: 3)));
        Assert.Equal(one, Interleave(Shares(24, 4, seed: 5, epoch: 3)));
        Assert.Equal(one, Interleave(Shares(24, 3, seed: 5, epoch: 3)));
    }

    [Fact]
    public void DrawsFollowTheWeightsAndNeverPickAZeroWeight()
    {
        var all = Shares(16000, 2, seed: 1).SelectMany(s => s).ToArray();
        Assert.DoesNotContain(1, all);
        Assert.DoesNotContain(4, all);
        // weight 4 of 10: 6400 expected, standard deviation ≈ 62
        Assert.InRange(all.Count(i => i == 5), 6100, 6700);
        Assert.InRange(all.Count(i => i == 2), 3000, 3400);
    }

    [Fact]
    public void PaddingRepeatsTheDrawsHeadAndDropLastCutsTheTail()
    {
        var one = Shares(10, 1, seed: 2)[0];
        var padded = Shares(10, 4, seed: 2);
        Assert.All(padded, s => Assert.Equal(3, s.Length));
        Assert.Equal([.. one, one[0], one[1]], Interleave(padded));
        var cut = Shares(10, 4, seed: 2, dropLast: true);
        Assert.All(cut, s => Assert.Equal(2, s.Length));
        Assert.Equal(one[..8], Interleave(cut));
    }

    [Fact]
    public void SetEpochDrawsAnewAndTheLoadersGeneratorDoesNotMatter()
    {
        var s = new DistributedWeightedSampler(Weights, 50, 2, 1, seed: 4);
        var first = s.Indices(new Generator(1)).ToArray();
        Assert.Equal(first, s.Indices(new Generator(2)));
        s.SetEpoch(1);
        Assert.NotEqual(first, s.Indices(new Generator(1)).ToArray());
    }

    [Fact]
    public void BadArgumentsAreRejectedWithTheirValues()
    {
        Assert.Contains("invalid rank 2", Assert.Throws<ArgumentException>(() => new DistributedWeightedSampler(Weights, 10, 2, 2)).Message);
        Assert.Contains("numReplicas must be positive, got 0", Assert.Throws<ArgumentException>(() => new DistributedWeightedSampler(Weights, 10, 0, 0)).Message);
        Assert.Contains("weights sum to 0", Assert.Throws<ArgumentException>(() => new DistributedWeightedSampler([0.0, 0.0], 10, 2, 0)).Message);
    }
}
