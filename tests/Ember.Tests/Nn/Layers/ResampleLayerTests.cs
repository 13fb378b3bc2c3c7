using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn.Layers;

public class ResampleLayerTests
{
    [Fact]
    public void Nearest_upsampling_by_two_repeats_pixels()
    {
        var x = Torch.Tensor(new float[,] { { 1, 2 }, { 3, 4 } }).Reshape(1, 1, 2, 2);
        Assert.Equal([1.0, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], new Upsample(2).Call(x).ToDoubleArray());
    }

    [Fact]
    public void Bilinear_align_corners_matches_pytorch()
    {
        // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(3, 3), mode='bilinear', align_corners=True)
        var x = Torch.Tensor(new float[,] { { 1, 2 }, { 3, 4 } }).Reshape(1, 1, 2, 2);
        var y = F.Interpolate(x, size: (3, 3), mode: InterpolationMode.Bilinear, alignCorners: true);
        TestUtil.Close([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], y, rtol: 1e-6);
    }

    [Fact]
    public void Upsampling_passes_gradcheck_and_double_backward()
    {
        var x = TestUtil.Leaf([2, 2, 3, 4], seed: 1);
        Ember.Autograd.GradCheck.Check(t => F.Interpolate(t[0], scaleFactor: (2, 1.5), mode: InterpolationMode.Bilinear), [x]);
        Ember.Autograd.GradCheck.Check(t => F.Interpolate(t[0], size: (5, 7)), [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => F.Interpolate(t[0], scaleFactor: (2, 2), mode: InterpolationMode.Bilinear).Square(), [x]);
    }

    [Fact]
    public void Pixel_shuffle_places_channels_into_subpixels_and_unshuffle_inverts_it()
    {
        var x = Torch.Arange(0.0, 8.0).Reshape(1, 4, 1, 2);
        var y = new PixelShuffle(2).Call(x);
        Assert.Equal(new Shape(1, 1, 2, 4), y.Shape);
        // out[0, 0, i, j] = x[0, (i % 2)·2 + (j % 2), 0, j / 2]
        Assert.Equal([0.0, 2, 1, 3, 4, 6, 5, 7], y.ToDoubleArray());
        Assert.Equal(x.ToDoubleArray(), new PixelUnshuffle(2).Call(y).ToDoubleArray());
    }
}
