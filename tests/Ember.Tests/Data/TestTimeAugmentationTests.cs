using Ember.Data.Transforms;
using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Tests.Data;

public class TestTimeAugmentationTests
{
    [Fact]
    public void ViewsAreEachScaleAndItsMirrorAtTheOriginalSize()
    {
        var x = Torch.Randn([2, 1, 28, 28], DType.Float32, new Generator(1));
        var views = TestTimeAugmentation.Views(x, horizontalFlip: true, scales: [1.0, 0.9, 1.1]).ToList();
        Assert.Equal(6, views.Count);
        Assert.All(views, v => Assert.Equal([2, 1, 28, 28], v.Shape.ToArray()));
        Assert.Equal(x.ToDoubleArray(), views[0].ToDoubleArray());
        Assert.Equal(x.Flip(3).ToDoubleArray(), views[1].ToDoubleArray());
        // 1.1: bilinear to 31 × 31, then the centre 28 × 28 (offset 1).
        var zoomed = F.Interpolate(x, (31, 31), mode: InterpolationMode.Bilinear).Narrow(2, 1, 28).Narrow(3, 1, 28);
        Assert.Equal(zoomed.ToDoubleArray(), views[4].ToDoubleArray());
        Assert.Equal(zoomed.Flip(3).ToDoubleArray(), views[5].ToDoubleArray());
    }

    [Fact]
    public void ZoomingOutPadsWithTheEdgeSoABackgroundStaysBackground()
    {
        // A dark image with a bright centre: shrunk to 25 × 25 and padded back, its border is still the dark edge value.
        var x = Torch.Full([1, 1, 28, 28], -0.8).Contiguous();
        x.Narrow(2, 10, 8).Narrow(3, 10, 8).FillInPlace(2.0);
        var shrunk = TestTimeAugmentation.Views(x, horizontalFlip: false, scales: [0.9]).Single();
        var pixels = shrunk.ToDoubleArray();
        Assert.Equal(-0.8, pixels[0], 6);
        Assert.Equal(-0.8, pixels[27 * 28 + 27], 6);
        Assert.True(pixels[14 * 28 + 14] > 1.9);
    }

    [Fact]
    public void AverageProbabilitiesIsTheMeanSoftmaxOverTheViews()
    {
        // A "model" that scores the left half and the right half of the image: a mirror swaps its two logits.
        Tensor Halves(Tensor images) => Torch.Stack([images.Narrow(3, 0, 2).Mean([1, 2, 3]), images.Narrow(3, 2, 2).Mean([1, 2, 3])], 1);
        var x = Torch.FromArray(new float[] { 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0 }, [1, 1, 4, 4]);
        var averaged = TestTimeAugmentation.AverageProbabilities(Halves, x, horizontalFlip: true);
        // Unflipped softmax([1, 0]) and flipped softmax([0, 1]) average to [0.5, 0.5].
        TestUtil.Close([0.5, 0.5], averaged, rtol: 1e-6);
        var plain = TestTimeAugmentation.AverageProbabilities(Halves, x, horizontalFlip: false);
        double e = Math.E;
        TestUtil.Close([e / (e + 1), 1 / (e + 1)], plain, rtol: 1e-6);
    }

    [Fact]
    public void BadScalesAndShapesAreErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => TestTimeAugmentation.Views(Torch.Zeros([1, 4, 4]), true).ToList());
        Assert.Contains("[N, C, H, W]", e.Message);
        e = Assert.Throws<ArgumentException>(() => TestTimeAugmentation.Views(Torch.Zeros([1, 1, 4, 4]), true, [3.0]).ToList());
        Assert.Contains("scale 3 is outside [0.5, 2]", e.Message);
    }
}
