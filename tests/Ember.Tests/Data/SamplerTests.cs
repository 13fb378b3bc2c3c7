using Ember.Data;

namespace Ember.Tests.Data;

public class SamplerTests
{
    [Fact]
    public void BatchSamplerOverSequentialMatchesTheNotes()
    {
        // list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False)) in the notes (002).
        var batches = new BatchSampler(new SequentialSampler(10), 3, false).ToList();
        Assert.Equal(new[] { new[] { 0, 1, 2 }, new[] { 3, 4, 5 }, new[] { 6, 7, 8 }, new[] { 9 } }, batches);
        Assert.Equal(4, new BatchSampler(new SequentialSampler(10), 3, false).Count);
        var dropped = new BatchSampler(new SequentialSampler(10), 3, true).ToList();
        Assert.Equal(3, dropped.Count);
        Assert.Equal(new[] { 6, 7, 8 }, dropped[^1]);
        Assert.Equal(3, new BatchSampler(new SequentialSampler(10), 3, true).Count);
    }

    [Fact]
    public void A_batch_size_near_int_MaxValue_gives_one_batch_of_everything()
    {
        // the count once overflowed to a negative number, and the batch buffer asked for int.MaxValue slots (an OutOfMemoryException)
        var sampler = new BatchSampler(new SequentialSampler(10), int.MaxValue, false);
        Assert.Equal(1, sampler.Count);
        Assert.Equal(new[] { Enumerable.Range(0, 10).ToArray() }, sampler.ToList());
        Assert.Equal(0, new BatchSampler(new SequentialSampler(10), int.MaxValue, true).Count);
    }

    [Fact]
    public void RandomSamplerWithoutReplacementIsAPermutationAndSeeded()
    {
        var a = new RandomSampler(50).Indices(new Generator(3)).ToArray();
        var b = new RandomSampler(50).Indices(new Generator(3)).ToArray();
        var c = new RandomSampler(50).Indices(new Generator(4)).ToArray();
        Assert.Equal(Enumerable.Range(0, 50), a.Order());
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // Its own generator wins over the one handed in, and advances between passes.
        var own = new RandomSampler(50, generator: new Generator(3));
        Assert.Equal(a, own.Indices(new Generator(99)).ToArray());
        Assert.NotEqual(a, own.Indices(new Generator(99)).ToArray());
    }

    [Fact]
    public void RandomSamplerNumSamplesAndReplacement()
    {
        var longer = new RandomSampler(4, numSamples: 10).Indices(new Generator(1)).ToArray();
        Assert.Equal(10, longer.Length);
        Assert.Equal(Enumerable.Range(0, 4), longer.Take(4).Order());   // whole permutations first
        Assert.Equal(Enumerable.Range(0, 4), longer.Skip(4).Take(4).Order());
        var withRep = new RandomSampler(3, replacement: true, numSamples: 3000).Indices(new Generator(2)).ToArray();
        Assert.Equal(3000, withRep.Length);
        Assert.All(withRep, i => Assert.InRange(i, 0, 2));
        foreach (var k in new[] { 0, 1, 2 }) Assert.InRange(withRep.Count(i => i == k), 850, 1150);
        var e = Assert.Throws<ArgumentException>(() => new RandomSampler(3, numSamples: 0));
        Assert.Contains("num_samples", e.Message);
    }

    [Fact]
    public void SubsetRandomSamplerPermutesTheSubset()
    {
        var idx = new[] { 5, 7, 11, 13 };
        var s = new SubsetRandomSampler(idx).Indices(new Generator(0)).ToArray();
        Assert.Equal(idx, s.Order());
        Assert.Equal(4, new SubsetRandomSampler(idx).Count);
    }

    [Fact]
    public void WeightedRandomSamplerFollowsTheWeights()
    {
        var draws = new WeightedRandomSampler([1, 0, 3], 8000, generator: new Generator(5)).Indices(new Generator(0)).ToArray();
        Assert.DoesNotContain(1, draws);
        double frac2 = draws.Count(i => i == 2) / 8000.0;
        Assert.InRange(frac2, 0.72, 0.78);
        var noRep = new WeightedRandomSampler([1, 1, 1, 0], 3, replacement: false).Indices(new Generator(1)).ToArray();
        Assert.Equal(new[] { 0, 1, 2 }, noRep.Order());
        var e = Assert.Throws<ArgumentException>(() => new WeightedRandomSampler([1, -1], 2));
        Assert.Contains("WeightedRandomSampler", e.Message);
        Assert.Contains("index 1", e.Message);
    }
}
