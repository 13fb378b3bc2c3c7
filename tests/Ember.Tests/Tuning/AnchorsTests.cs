using Ember.Tuning;

namespace Ember.Tests.Tuning;

public class AnchorsTests
{
    // YOLOv5's COCO P3–P5 anchors as the true cluster centers.
    static readonly (double W, double H)[] Centers = [(10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198), (373, 326)];

    // 150 boxes per cluster, each side scaled by exp(0.05·N(0,1)) (about ±5 %), drawn from a fixed seed.
    static Tensor Boxes(long seed = 123, int perCluster = 150)
    {
        var g = new Generator(seed);
        var data = new List<float>();
        foreach (var (w, h) in Centers)
            for (int i = 0; i < perCluster; i++)
            {
                data.Add((float)(w * Math.Exp(0.05 * g.NextNormal())));
                data.Add((float)(h * Math.Exp(0.05 * g.NextNormal())));
            }
        return Torch.FromArray(data.ToArray(), [data.Count / 2, 2]);
    }

    static void AssertCentersRecovered(Tensor anchors, double tolerance)
    {
        var k = anchors.ToDoubleArray();
        Assert.Equal(18, k.Length);
        foreach (var (w, h) in Centers)
        {
            double bestErr = double.PositiveInfinity;
            for (int j = 0; j < 9; j++)
                bestErr = Math.Min(bestErr, Math.Max(Math.Abs(k[2 * j] / w - 1), Math.Abs(k[2 * j + 1] / h - 1)));
            Assert.True(bestErr < tolerance, $"center ({w}, {h}) not recovered: closest anchor is {bestErr:P1} off; anchors {string.Join(" ", k.Select(x => x.ToString("F1")))}");
        }
    }

    [Fact]
    public void Metric_matches_a_hand_computed_case()
    {
        // Box 10×20 against anchors 10×10 (x = min(1, 0.5) = 0.5) and 40×20 (x = min(0.25, 1) = 0.25, not > 1/4).
        // Box 100×100: x = 0.1 and 0.2, no match.
        var wh = Torch.Tensor(new float[,] { { 10, 20 }, { 100, 100 } });
        var k = Torch.Tensor(new float[,] { { 10, 10 }, { 40, 20 } });
        var m = Anchors.Metrics(wh, k, 4.0);
        Assert.Equal(0.5, m.BestPossibleRecall, 12);
        Assert.Equal(0.5, m.AnchorsAboveThreshold, 12);
        Assert.Equal(0.25, m.Fitness, 12);        // (0.5 + 0) / 2
        Assert.Equal((0.5 + 0.2) / 2, m.MeanBest, 12);
        Assert.Equal(1.0, Anchors.Metrics(wh, k, 10.0).BestPossibleRecall, 12); // 0.2 > 1/10
    }

    [Fact]
    public void Kmeans_and_evolution_recover_nine_known_clusters()
    {
        var wh = Boxes();
        var poor = Torch.Tensor(new float[,] { { 200, 200 }, { 220, 220 }, { 250, 250 } });
        var r = Anchors.Compute(wh, 9, new AnchorOptions { Seed = 1 }, current: poor);
        AssertCentersRecovered(r.KMeansAnchors, 0.05);
        AssertCentersRecovered(r.Anchors, 0.10);
        Assert.NotNull(r.Initial);
        Assert.True(r.Before.BestPossibleRecall < 0.5, $"BPR before {r.Before.BestPossibleRecall}");
        Assert.True(r.Final.BestPossibleRecall >= r.Before.BestPossibleRecall);
        Assert.Equal(1.0, r.Final.BestPossibleRecall, 12);
        Assert.True(r.Final.Fitness >= r.KMeans.Fitness); // the refinement only accepts improvements
        Assert.True(r.Improved);
        // Sorted small to large by area.
        var k = r.Anchors.ToDoubleArray();
        for (int j = 1; j < 9; j++) Assert.True(k[2 * j] * k[2 * j + 1] >= k[2 * j - 2] * k[2 * j - 1]);
        // Anchors above threshold counts all matching anchors (neighbouring clusters are within 4×), so it exceeds 1.
        Assert.True(r.Final.AnchorsAboveThreshold > 1.0);
    }

    [Fact]
    public void Evolution_raises_fitness_from_a_poor_start_and_never_lowers_it()
    {
        var wh = Boxes(perCluster: 60);
        var start = Torch.Tensor(new float[,] { { 5, 5 }, { 10, 10 }, { 20, 20 }, { 40, 40 }, { 80, 80 }, { 160, 160 }, { 200, 100 }, { 100, 200 }, { 300, 300 } });
        double before = Anchors.Fitness(wh, start);
        var k = Anchors.Evolve(wh, start, new AnchorOptions { Seed = 3, Generations = 300 });
        double after = Anchors.Fitness(wh, k);
        Assert.True(after > before + 0.05, $"fitness {before} -> {after}");
        Assert.All(k.ToDoubleArray(), x => Assert.True(x >= 2.0));
    }

    [Fact]
    public void Same_seed_gives_the_same_anchors()
    {
        var wh = Boxes(perCluster: 40);
        var o = new AnchorOptions { Seed = 9, Generations = 200, KMeansRestarts = 5 };
        var a = Anchors.Compute(wh, 9, o).Anchors.ToArray<float>();
        var b = Anchors.Compute(wh, 9, o).Anchors.ToArray<float>();
        Assert.Equal(a, b);
        Assert.Equal(Anchors.KMeans(wh, 9, new Generator(4), 3).ToArray<float>(), Anchors.KMeans(wh, 9, new Generator(4), 3).ToArray<float>());
    }

    [Fact]
    public void Tiny_boxes_are_left_out_of_the_fit_but_counted_in_the_metrics()
    {
        var wh = Torch.Tensor(new float[,] { { 1, 1 }, { 1.5f, 1 }, { 20, 20 }, { 21, 19 }, { 40, 80 }, { 42, 78 } });
        var r = Anchors.Compute(wh, 2, new AnchorOptions { Seed = 0, Generations = 50 });
        // Only the four large boxes are clustered; the two 1-px boxes match no anchor, so BPR is 4/6.
        Assert.Equal(4.0 / 6, r.Final.BestPossibleRecall, 12);
        var e = Assert.Throws<ArgumentException>(() => Anchors.Compute(wh, 5));
        Assert.Contains("n = 5", e.Message);
        Assert.Contains("got 4 (of 6)", e.Message);
    }

    [Fact]
    public void Check_order_reverses_levels_whose_areas_run_against_the_strides()
    {
        var grow = Torch.FromArray(new float[] { 10, 13, 16, 30, 30, 61, 62, 45, 116, 90, 156, 198 }, [3, 2, 2]);
        var (same, flippedSame) = Anchors.CheckOrder(grow, [8, 16, 32]);
        Assert.False(flippedSame);
        Assert.Same(grow, same);
        var (rev, flipped) = Anchors.CheckOrder(grow, [32, 16, 8]);
        Assert.True(flipped);
        Assert.Equal(new float[] { 116, 90, 156, 198, 30, 61, 62, 45, 10, 13, 16, 30 }, rev.ToArray<float>());
        var e = Assert.Throws<ArgumentException>(() => Anchors.CheckOrder(grow, [8, 16]));
        Assert.Contains("expected 3 strides", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Anchors.Metrics(Torch.Zeros([4, 3]), grow.Reshape(-1, 2)));
        Assert.Contains("[4, 3]", e2.Message);
    }
}
