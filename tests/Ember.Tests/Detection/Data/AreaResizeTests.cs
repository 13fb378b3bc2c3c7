using Ember.Detection.Data;

namespace Ember.Tests.Detection.Data;

public class AreaResizeTests
{
    [Fact]
    public void AnIntegerFactorAveragesBlocks()
    {
        // 1 × 4 × 6 → 2 × 3: each output is the mean of a 2×2 block
        var data = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var small = AreaResize.Shrink(Torch.FromArray(data, [1, 4, 6]), 2, 3).ToArray<float>();
        Assert.Equal([(0 + 1 + 6 + 7) / 4f, (2 + 3 + 8 + 9) / 4f, (4 + 5 + 10 + 11) / 4f, (12 + 13 + 18 + 19) / 4f, (14 + 15 + 20 + 21) / 4f, (16 + 17 + 22 + 23) / 4f], small);
    }

    [Fact]
    public void AFractionalFactorWeighsPartlyCoveredPixels()
    {
        // 1 × 1 × 3 → 1 × 2: footprints [0, 1.5) and [1.5, 3): (a + b/2) / 1.5 and (b/2 + c) / 1.5
        var small = AreaResize.Shrink(Torch.FromArray(new float[] { 3, 6, 9 }, [1, 1, 3]), 1, 2).ToArray<float>();
        Assert.Equal((3 + 3) / 1.5, small[0], 5);
        Assert.Equal((3 + 9) / 1.5, small[1], 5);
        // a constant image stays constant; the mean is kept whatever the factor
        var ramp = Torch.FromArray(Enumerable.Range(0, 3 * 7 * 11).Select(i => (float)(i % 13)).ToArray(), [3, 7, 11]);
        var shrunk = AreaResize.Shrink(ramp, 3, 4);
        Assert.Equal(ramp.Mean().Item<float>(), shrunk.Mean().Item<float>(), 3);
        Assert.All(AreaResize.Shrink(Torch.Full([1, 9, 5], 0.25), 4, 2).ToArray<float>(), v => Assert.Equal(0.25f, v, 6));
    }

    [Fact]
    public void EnlargingIsAnError()
        => Assert.Contains("can only shrink, got 4×4 → 5×4", Assert.Throws<ArgumentException>(() => AreaResize.Shrink(Torch.Zeros([1, 4, 4]), 5, 4)).Message);
}
