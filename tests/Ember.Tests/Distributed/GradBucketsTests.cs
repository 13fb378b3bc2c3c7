using Ember.Distributed;

namespace Ember.Tests.Distributed;

public class GradBucketsTests
{
    const long MiB = 1024 * 1024;

    [Fact]
    public void FirstBucketClosesAtTheSmallCapTheRestAtTheLargeOne()
    {
        // Sizes in launch order: 0.5, 0.6 (first bucket reaches 1 MiB), 10, 10, 10 (second reaches 25 MiB at 30), 2.
        var items = new (long, DType)[] { (MiB / 2, DType.Float32), (MiB * 6 / 10, DType.Float32), (10 * MiB, DType.Float32),
            (10 * MiB, DType.Float32), (10 * MiB, DType.Float32), (2 * MiB, DType.Float32) };
        var buckets = GradBuckets.Assign(items, GradBuckets.DefaultCapBytes, GradBuckets.DefaultFirstCapBytes);
        Assert.Equal([[0, 1], [2, 3, 4], [5]], buckets);
    }

    [Fact]
    public void ATensorLargerThanTheCapGetsItsOwnBucket()
    {
        var items = new (long, DType)[] { (100, DType.Float32), (1000, DType.Float32), (10, DType.Float32), (10, DType.Float32) };
        var buckets = GradBuckets.Assign(items, capBytes: 500, firstCapBytes: 50);
        Assert.Equal([[0], [1], [2, 3]], buckets);
    }

    [Fact]
    public void DTypesNeverShareABucket()
    {
        var items = new (long, DType)[] { (8, DType.Float64), (4, DType.Float32), (8, DType.Float64), (4, DType.Float32) };
        var buckets = GradBuckets.Assign(items, capBytes: 1000, firstCapBytes: 1000);
        Assert.Equal([[0, 2], [1, 3]], buckets);
    }

    [Fact]
    public void EveryItemIsInExactlyOneBucketInLaunchOrder()
    {
        var rng = new Random(3);
        var items = Enumerable.Range(0, 200).Select(_ => ((long)rng.Next(1, 5000), rng.Next(3) == 0 ? DType.Float64 : DType.Float32)).ToArray();
        var buckets = GradBuckets.Assign(items, capBytes: 20000, firstCapBytes: 3000);
        Assert.Equal(Enumerable.Range(0, 200), buckets.SelectMany(b => b).OrderBy(i => i));
        foreach (var b in buckets)
        {
            Assert.True(b.SequenceEqual(b.OrderBy(i => i)), "a bucket's items keep launch order");
            Assert.Single(b.Select(i => items[i].Item2).Distinct());
            // Closed buckets hold at least the cap only because of their last item.
            long withoutLast = b.Take(b.Length - 1).Sum(i => items[i].Item1);
            Assert.True(withoutLast < 20000, $"bucket starting at {b[0]} kept filling past the cap");
        }
        Assert.True(buckets.Select(b => b[0]).SequenceEqual(buckets.Select(b => b[0]).OrderBy(i => i)), "buckets are ordered by their first item");
    }

    [Fact]
    public void NonPositiveCapsAreRejected()
    {
        var items = new (long, DType)[] { (8, DType.Float32) };
        Assert.Contains("got 0 bytes", Assert.Throws<ArgumentOutOfRangeException>(() => GradBuckets.Assign(items, 0, 10)).Message);
        Assert.Contains("got -1 bytes", Assert.Throws<ArgumentOutOfRangeException>(() => GradBuckets.Assign(items, 10, -1)).Message);
    }
}
