using Ember.Detection.Data;

namespace Ember.Tests.Detection.Data;

public class DetectionCollateTests
{
    static DetectionSample Sample(float fill, int h, int w, params float[] labels)
        => new(Torch.Full([3, h, w], fill), Torch.FromArray(labels, [labels.Length / 5, 5]), $"img{fill}");

    [Fact]
    public void StacksImagesAndPrefixesEachLabelWithItsImageIndex()
    {
        var batch = DetectionCollate.Collate([Sample(0.1f, 4, 6, 1, .5f, .5f, .2f, .2f, 2, .1f, .2f, .1f, .1f), Sample(0.2f, 4, 6), Sample(0.3f, 4, 6, 0, .9f, .8f, .1f, .3f)]);
        Assert.Equal([3, 3, 4, 6], batch.Images.Shape.ToArray());
        Assert.Equal(0.3, batch.Images.ToDoubleArray()[2 * 72 + 5], 6);
        Assert.Equal([3, 6], batch.Targets.Shape.ToArray());
        Assert.Equal([0, 1, .5, .5, .2, .2, 0, 2, .1, .2, .1, .1, 2, 0, .9, .8, .1, .3], batch.Targets.ToDoubleArray().Select(v => Math.Round(v, 6)));
        Assert.Equal(["img0.1", "img0.2", "img0.3"], batch.Paths);
    }

    [Fact]
    public void ImagesOfDifferentSizesAreAnErrorNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => DetectionCollate.Collate([Sample(0, 4, 6), Sample(1, 4, 8)]));
        Assert.Contains("sample 0 (img0) is [3, 4, 6] but sample 1 (img1) is [3, 4, 8]", e.Message);
    }
}
