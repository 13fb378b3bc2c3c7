using Ember.Detection.Data;
using static Ember.Tests.Detection.Data.BoxPainting;

namespace Ember.Tests.Detection.Data;

public class RectangularBatchesTests
{
    [Fact]
    public void A1080By1440ImageAt640ValidatesAt512By672()
    {
        // h/w = 0.75 < 1: [0.75, 1] · 640 / 32 + 0.5 = [15.5, 20.5], rounded up: [16, 21] · 32 = [512, 672]
        Assert.Equal((512, 672), RectangularBatches.Shape(0.75, 0.75, 640));
        var rect = new RectangularBatches([(1080, 1440)], 640, batchSize: 32);
        Assert.Equal([(512, 672)], rect.Shapes);
    }

    [Fact]
    public void ImagesAreSortedByAspectRatioAndEachBatchTakesItsShapeFromItsExtremes()
    {
        // ratios h/w: 0.75, 0.75, 1.333, 1, 0.333 → order 4, 0, 1, 3, 2
        var rect = new RectangularBatches([(1080, 1440), (480, 640), (1440, 1080), (640, 640), (100, 300)], 640, batchSize: 2);
        Assert.Equal([4, 0, 1, 3, 2], rect.Order);
        // [0.333, 0.75]: all wide, max 0.75 → 512×672; [0.75, 1]: neither all wide nor all tall → [1, 1] → 672×672;
        // [1.333]: all tall, 1 / min = 0.75 → 672×512
        Assert.Equal([(512, 672), (672, 672), (672, 512)], rect.Shapes);
        Assert.Equal((672, 672), rect.ShapeAt(3));
        // YOLOv5's training default pad 0 and another size: 0.333 · 416 / 32 = 4.33 → 5 · 32 = 160
        Assert.Equal((160, 416), RectangularBatches.Shape(1 / 3.0, 1 / 3.0, 416, pad: 0));
    }

    [Fact]
    public void RectangularValidationYieldsBatchesOfTheirOwnShapeWithBoxesOnThePixels()
    {
        var source = new SampleList(
            Paint(1080, 1440, (100, 200, 500, 700, 0), (900, 100, 1400, 1000, 1)),
            Paint(300, 200, (20, 30, 150, 250, 2)),
            Paint(720, 960, (300, 300, 600, 500, 3)));
        var ds = new DetectionDataset(source, imageSize: 640, rect: true, batchSize: 2);
        Assert.Equal([0, 2, 1], ds.Rect!.Order); // ratios 0.75 (index 0) and 0.75 (index 2) first, in their order, then 1.5
        var big = ds[0];
        Assert.Equal([3, 512, 672], big.Image.Shape.ToArray());
        Assert.Equal("painted1080x1440", big.Path);
        AssertBoxesMatchPixels(big, minIoU: 0.97);
        var batches = ds.CreateLoader().ToList();
        Assert.Equal(2, batches.Count);
        Assert.Equal([2, 3, 512, 672], batches[0].Images.Shape.ToArray());
        Assert.Equal([1, 3, 672, 448], batches[1].Images.Shape.ToArray()); // h/w 1.5: [1, 1/1.5] · 20 + 0.5 = [20.5, 13.8] → [21, 14] · 32
        Assert.Equal([3, 6], batches[0].Targets.Shape.ToArray());
        var t = batches[0].Targets.ToArray<float>();
        Assert.Equal([0f, 0f, 1f], new[] { t[0], t[6], t[12] });   // image index: source 0 holds two boxes, source 2 one
        Assert.Equal([0f, 1f, 3f], new[] { t[1], t[7], t[13] });   // their classes
        AssertBoxesMatchPixels(ds[2], minIoU: 0.97);
        Assert.Throws<ArgumentException>(() => ds.CreateLoader(shuffle: true));
    }
}
