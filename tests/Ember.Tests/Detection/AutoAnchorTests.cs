using Ember.Detection.Model;
using Ember.Tuning;

namespace Ember.Tests.Detection;

public class AutoAnchorTests
{
    static Tensor Boxes(long seed, int n, double wLo, double wHi, double hLo, double hHi)
    {
        var g = new Generator(seed);
        var wh = new float[2 * n];
        for (int i = 0; i < n; i++) { wh[2 * i] = (float)(wLo + (wHi - wLo) * g.NextDouble()); wh[2 * i + 1] = (float)(hLo + (hHi - hLo) * g.NextDouble()); }
        return Torch.FromArray(wh, [n, 2]);
    }

    [Fact]
    public void Poor_default_anchors_on_long_thin_boxes_are_evolved_and_replaced()
    {
        // 300 boxes 200–400 px wide and 4–8 px high: no default anchor is within 4× on both sides (BPR 0)
        var wh = Boxes(1, 300, 200, 400, 4, 8);
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var r = AutoAnchor.Check(head, wh, new AnchorOptions { Generations = 200, Seed = 3 });
        Assert.Equal(0.0, r.Before.BestPossibleRecall);
        Assert.True(r.Evolved);
        Assert.True(r.Replaced);
        Assert.True(r.After.BestPossibleRecall > 0.98, $"BPR after evolution {r.After.BestPossibleRecall}");
        Assert.Equal(new Shape(3, 3, 2), r.Anchors.Shape);
        TestUtil.Close(r.Anchors, head.Anchors, 0, 0); // written into the head
        // the head's anchors now give the reported BPR, independently recomputed
        Assert.Equal(r.After.BestPossibleRecall, Anchors.Metrics(wh, head.Anchors.Reshape(-1, 2)).BestPossibleRecall, 12);
        var a = head.Anchors.ToDoubleArray();
        Assert.True(a[0] * a[1] <= a[^2] * a[^1], "small anchors must sit on the small stride");
    }

    [Fact]
    public void Good_anchors_are_kept_without_evolution()
    {
        // boxes within a factor 1.5 of the default anchors
        var g = new Generator(2);
        var flat = DetectHead.DefaultAnchors.SelectMany(x => x).ToArray();
        var wh = new float[2 * 200];
        for (int i = 0; i < 200; i++)
        {
            int k = (int)(g.NextDouble() * 9);
            wh[2 * i] = (float)(flat[2 * k] * (0.7 + 0.8 * g.NextDouble()));
            wh[2 * i + 1] = (float)(flat[2 * k + 1] * (0.7 + 0.8 * g.NextDouble()));
        }
        var head = new DetectHead(2, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);
        var before = head.Anchors.Clone();
        var r = AutoAnchor.Check(head, Torch.FromArray(wh, [200, 2]));
        Assert.Equal(1.0, r.Before.BestPossibleRecall);
        Assert.False(r.Evolved);
        Assert.False(r.Replaced);
        TestUtil.Close(before, head.Anchors, 0, 0);
    }

    [Fact]
    public void Label_sizes_scale_each_image_to_the_training_size()
    {
        var wh = AutoAnchor.LabelSizes([(1440, 1080), (100, 200)], [[0.5f, 0.5f], [0.1f, 0.2f, 1f, 1f]], imageSize: 640);
        TestUtil.Close([320, 240, 32, 128, 320, 640], wh.Reshape(-1), rtol: 1e-6);
        var jittered = AutoAnchor.LabelSizes([(640, 640)], [[1f, 1f]], 640, new Generator(1)).ToDoubleArray();
        Assert.InRange(jittered[0], 576, 704);
        Assert.Equal(jittered[0], jittered[1], 3); // one factor per image
    }
}
