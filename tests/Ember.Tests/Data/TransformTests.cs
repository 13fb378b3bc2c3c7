using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Tests.Data;

public class TransformTests
{
    static Tensor Image(int c, int h, int w, long seed = 0) => Torch.Rand([c, h, w], DType.Float32, new Generator(seed));
    static Tensor Ramp(int c, int h, int w) => Torch.Arange(0, c * h * w, 1).To(DType.Float32).Reshape(c, h, w);

    /// <summary>Same generator seed → same output; and across seeds the transform really varies.</summary>
    static void Deterministic(ITransform t, Tensor input)
    {
        Assert.Equal(t.Apply(input, new Generator(7)).ToDoubleArray(), t.Apply(input, new Generator(7)).ToDoubleArray());
        var outs = Enumerable.Range(0, 10).Select(s => t.Apply(input, new Generator(s)).ToDoubleArray()).ToList();
        Assert.True(outs.Skip(1).Any(o => !o.SequenceEqual(outs[0])), $"{t.GetType().Name} did not vary with the seed");
    }

    [Fact]
    public void ToTensorConvertsHwcBytesToChwUnit()
    {
        var hwc = Torch.FromArray(new long[] { 0, 255, 51, 102, 204, 255 }, [1, 2, 3]);
        var chw = new ToTensor().Apply(hwc, new Generator());
        Assert.Equal(new Shape(3, 1, 2), chw.Shape);
        TestUtil.Close([0, 102 / 255.0, 1, 204 / 255.0, 51 / 255.0, 1], chw);
        var fromBytes = ToTensor.FromBytes(new byte[] { 0, 255, 51, 102, 204, 255 }, 1, 2, 3);
        TestUtil.Close(chw, fromBytes);
    }

    [Fact]
    public void NormalizeAndDatasetStatistics()
    {
        var img = Torch.Stack([Torch.Full([2, 2], 0.5), Torch.Full([2, 2], 1.0)]);
        var n = new Normalize([0.5, 0.5], [0.25, 0.5]).Apply(img, new Generator());
        TestUtil.Close([0, 0, 0, 0, 1, 1, 1, 1], n);
        var (mean, std) = Normalize.ComputeMeanStd([Torch.Full([1, 2, 2], 0.0), Torch.Full([1, 2, 2], 1.0)]);
        Assert.Equal(0.5, mean[0], 12);
        Assert.Equal(0.5, std[0], 12);
        var e = Assert.Throws<ArgumentException>(() => new Normalize([0.5, 0.5], [0.2, 0.2]).Apply(Image(3, 2, 2), new Generator()));
        Assert.Contains("3 channels", e.Message);
    }

    [Fact]
    public void FashionMnistStatistics()
    {
        // The commonly quoted Fashion-MNIST training statistics are mean 0.2860, std 0.3530.
        var ds = FashionMnistFixture.Train;
        var (mean, std) = Normalize.ComputeMeanStd(Enumerable.Range(0, ds.Count).Select(i => ds[i].Image));
        Assert.Equal(0.2860, mean[0], 3);
        Assert.Equal(0.3530, std[0], 3);
    }

    [Fact]
    public void RandomCropWithPaddingShapesValuesAndDeterminism()
    {
        var img = Ramp(1, 6, 6) + 1;
        var t = new RandomCrop(6, padding: 2);
        for (int s = 0; s < 20; s++)
        {
            var o = t.Apply(img, new Generator(s)).ToDoubleArray();
            Assert.Equal(36, o.Length);
            // Either padding (0) or a contiguous shifted window of the ramp.
            Assert.All(o, v => Assert.InRange(v, 0, 36));
        }
        // Without padding a full-size crop is the identity.
        Assert.Equal(img.ToDoubleArray(), new RandomCrop(6).Apply(img, new Generator(1)).ToDoubleArray());
        var crop = new RandomCrop((2, 3)).Apply(img, new Generator(3));
        Assert.Equal(new Shape(1, 2, 3), crop.Shape);
        double first = crop.ToDoubleArray()[0];
        Assert.Equal(new[] { first, first + 1, first + 2, first + 6, first + 7, first + 8 }, crop.ToDoubleArray());
        Deterministic(t, img);
        Assert.Contains("larger than the padded input", Assert.Throws<ArgumentException>(() => new RandomCrop(8).Apply(img, new Generator())).Message);
    }

    [Fact]
    public void FlipsMirrorWithProbability()
    {
        var img = Ramp(2, 2, 3);
        Assert.Equal(img.Flip(2).ToDoubleArray(), new RandomHorizontalFlip(1).Apply(img, new Generator()).ToDoubleArray());
        Assert.Equal(img.Flip(1).ToDoubleArray(), new RandomVerticalFlip(1).Apply(img, new Generator()).ToDoubleArray());
        Assert.Same(img, new RandomHorizontalFlip(0).Apply(img, new Generator()));
        int flipped = Enumerable.Range(0, 1000).Count(s => new RandomHorizontalFlip(0.3).Apply(img, new Generator(s)).ToDoubleArray()[0] != 0);
        Assert.InRange(flipped, 240, 360);
    }

    [Fact]
    public void ResizeMatchesPyTorchBilinear()
    {
        // tools/oracle/data_resize.cs (torch-oracle, libtorch 2.10, float64 run): F.interpolate(arange(12).reshape(1,1,3,4), size=(5,3), mode="bilinear", align_corners=False).
        var y = new Resize(5, 3).Apply(Ramp(1, 3, 4), new Generator());
        Assert.Equal(new Shape(1, 5, 3), y.Shape);
        TestUtil.Close(ResizeReference, y, 1e-6, 1e-5);
        var smaller = new Resize(14).Apply(Image(3, 28, 56), new Generator());
        Assert.Equal(new Shape(3, 14, 28), smaller.Shape);
        var constant = new Resize(7, 9).Apply(Torch.Full([1, 4, 4], 0.25), new Generator());
        Assert.All(constant.ToDoubleArray(), v => Assert.Equal(0.25, v, 6));
    }

    static readonly double[] ResizeReference = [0.16666666666666663, 1.5, 2.833333333333333, 1.7666666666666666, 3.1, 4.433333333333333, 4.166666666666667, 5.5, 6.833333333333333, 6.5666666666666655, 7.8999999999999995, 9.233333333333333, 8.166666666666666, 9.5, 10.833333333333334];

    [Fact]
    public void RandomResizedCropShapesAndRange()
    {
        var img = Image(3, 20, 30);
        var t = new RandomResizedCrop(12, 10);
        var y = t.Apply(img, new Generator(1));
        Assert.Equal(new Shape(3, 12, 10), y.Shape);
        Assert.InRange(y.Min().Item(), 0, 1);
        Assert.InRange(y.Max().Item(), 0, 1);
        for (int s = 0; s < 50; s++)
        {
            var (top, left, h, w) = t.Window(20, 30, new Generator(s));
            Assert.True(top >= 0 && left >= 0 && top + h <= 20 && left + w <= 30 && h > 0 && w > 0);
            Assert.InRange((double)h * w / 600, 0.08 - 0.02, 1.0);
        }
        Deterministic(t, img);
    }

    [Fact]
    public void ColorJitterKeepsRangeAndGrayStaysGray()
    {
        var img = Image(3, 8, 8);
        var t = new ColorJitter(0.4, 0.4, 0.4, 0.1);
        var y = t.Apply(img, new Generator(2));
        Assert.Equal(img.Shape, y.Shape);
        Assert.InRange(y.Min().Item(), 0, 1);
        Assert.InRange(y.Max().Item(), 0, 1);
        Deterministic(t, img);
        // Hue and saturation leave gray pixels gray.
        var gray = Torch.Full([3, 2, 2], 0.4);
        var g = new ColorJitter(saturation: 0.9, hue: 0.5).Apply(gray, new Generator(4)).ToDoubleArray();
        Assert.All(g, v => Assert.Equal(0.4, v, 5));
        // Brightness alone scales; single channel images are supported.
        var one = new ColorJitter(brightness: 0.5).Apply(Torch.Full([1, 2, 2], 0.5), new Generator(3)).ToDoubleArray();
        Assert.All(one, v => Assert.Equal(one[0], v));
        Assert.InRange(one[0], 0.25, 0.75);
        // A hue shift keeps a saturated pixel's max and min channel values (it only rotates the hue).
        var red = Torch.FromArray(new float[] { 0.9f, 0.2f, 0.2f }, [3, 1, 1]);
        var shifted = new ColorJitter(hue: 0.5).Apply(red, new Generator(6)).ToDoubleArray();
        Assert.Equal(0.9, shifted.Max(), 5);
        Assert.Equal(0.2, shifted.Min(), 5);
        Assert.NotEqual(red.ToDoubleArray(), shifted);
        Assert.Contains("hue must be in [0, 0.5]", Assert.Throws<ArgumentException>(() => new ColorJitter(hue: 0.6)).Message);
    }

    [Fact]
    public void RandomErasingAndCutoutFillARectangle()
    {
        var img = Torch.Ones(3, 16, 16);
        var erased = new RandomErasing(p: 1).Apply(img, new Generator(1));
        int zeros = erased.ToDoubleArray().Count(v => v == 0);
        Assert.True(zeros > 0 && zeros % 3 == 0 && zeros / 3 <= 0.33 * 256 + 16, $"{zeros} zeros");
        Assert.Same(img, new RandomErasing(p: 0).Apply(img, new Generator(1)));
        Deterministic(new RandomErasing(p: 1), img);
        var cut = new Cutout(4).Apply(img, new Generator(5));
        int holes = cut.ToDoubleArray().Count(v => v == 0) / 3;
        Assert.InRange(holes, 4, 16);
        Deterministic(new Cutout(4), img);
    }

    [Fact]
    public void MixUpProducesSoftTargetsThatSumToOne()
    {
        var x = Torch.Stack(Enumerable.Range(0, 6).Select(i => Torch.Full([1, 2, 2], i)).ToArray());
        var y = Torch.Tensor(0L, 1L, 2L, 0L, 1L, 2L);
        var (mx, my, lambda) = new MixUp(3, alpha: 0.4).Apply(x, y, new Generator(3));
        Assert.Equal(new Shape(6, 3), my.Shape);
        Assert.Equal(new Shape(6, 1, 2, 2), mx.Shape);
        TestUtil.Close(Enumerable.Repeat(1.0, 6).ToArray(), my.Sum(1), 1e-6, 1e-6);
        Assert.InRange(lambda, 0, 1);
        // Each row's weight on its own label is at least min(λ, 1 − λ) and pixel = λ·i + (1 − λ)·j.
        var rows = my.ToDoubleArray();
        var pix = mx.ToDoubleArray();
        for (int i = 0; i < 6; i++)
        {
            double j = (pix[4 * i] - lambda * i) / (1 - lambda);
            Assert.Equal(Math.Round(j), j, 4);
            Assert.True(rows[3 * i + (int)y.ToArray<long>()[i]] >= Math.Min(lambda, 1 - lambda) - 1e-6);
        }
        var again = new MixUp(3, alpha: 0.4).Apply(x, y, new Generator(3));
        Assert.Equal(mx.ToDoubleArray(), again.Inputs.ToDoubleArray());
        Assert.Contains("sample 1", Assert.Throws<ArgumentException>(() => new MixUp(3).Apply(x, Torch.Tensor(0L, 5L, 0L, 0L, 0L, 0L), new Generator())).Message);
    }

    [Fact]
    public void CutMixPastesABoxAndWeighsTargetsByArea()
    {
        var x = Torch.Stack(Enumerable.Range(0, 4).Select(i => Torch.Full([2, 8, 8], i)).ToArray());
        var y = Torch.Tensor(0L, 1L, 2L, 3L);
        var (mx, my, lambda) = new CutMix(4).Apply(x, y, new Generator(9));
        Assert.Equal(x.Shape, mx.Shape);
        TestUtil.Close(Enumerable.Repeat(1.0, 4).ToArray(), my.Sum(1), 1e-6, 1e-6);
        var pix = mx.ToDoubleArray();
        var t = my.ToDoubleArray();
        for (int i = 0; i < 4; i++)
        {
            // The fraction of image i's pixels that kept their value is its target weight on its own label.
            int own = pix.Skip(i * 128).Take(128).Count(v => v == i);
            double ownWeight = t[4 * i + i];
            if (ownWeight < 1 - 1e-9) Assert.Equal(lambda, own / 128.0, 6);
        }
    }

    [Fact]
    public void MosaicCombinesFourImagesAndCarriesBoxes()
    {
        var items = Enumerable.Range(0, 4).Select(k => (Torch.Full([3, 20, 20], 0.1 * (k + 1)),
            Torch.FromArray(new float[] { 2, 2, 18, 18, k }, [1, 5]))).ToArray();
        var (img, boxes) = new Mosaic(32, fill: 0).Apply(items, new Generator(4));
        Assert.Equal(new Shape(3, 32, 32), img.Shape);
        Assert.Equal(5, boxes.Size(1));
        var b = boxes.ToArray<float>();
        for (int r = 0; r < boxes.Size(0); r++)
        {
            Assert.InRange(b[5 * r], 0, 32); Assert.InRange(b[5 * r + 2], 0, 32);
            Assert.True(b[5 * r + 2] - b[5 * r] >= 2 && b[5 * r + 3] - b[5 * r + 1] >= 2);
            // The box's class column still names the image whose pixels it covers.
            int cx = (int)((b[5 * r] + b[5 * r + 2]) / 2), cy = (int)((b[5 * r + 1] + b[5 * r + 3]) / 2);
            Assert.Equal(0.1 * (b[5 * r + 4] + 1), img.ToDoubleArray()[cy * 32 + cx], 5);
        }
        Assert.True(boxes.Size(0) >= 1);
        Assert.Equal(img.ToDoubleArray(), new Mosaic(32, fill: 0).Apply(items, new Generator(4)).Image.ToDoubleArray());
    }

    [Fact]
    public void LetterboxKeepsAspectPadsToStrideAndMapsBoxesBack()
    {
        var img = Image(3, 100, 200);
        var lb = new Letterbox(320, auto: true).Apply(img);
        Assert.Equal(1.6, lb.Scale, 9);
        Assert.Equal(new Shape(3, 160, 320), lb.Image.Shape);   // 100·1.6 = 160, already a multiple of 32
        var odd = new Letterbox(320, auto: true).Apply(Image(3, 90, 200));
        Assert.Equal(new Shape(3, 160, 320), odd.Image.Shape);   // 144 padded to 160
        Assert.Equal(8, odd.PadTop);
        Assert.Equal(0, odd.PadLeft);
        var square = new Letterbox(320).Apply(Image(3, 90, 200));
        Assert.Equal(new Shape(3, 320, 320), square.Image.Shape);
        Assert.Equal(88, square.PadTop);
        var box = Torch.FromArray(new float[] { 10, 20, 110, 80, 3 }, [1, 5]);
        var mapped = square.MapToLetterbox(box);
        TestUtil.Close([16, 20 * 1.6 + 88, 176, 80 * 1.6 + 88, 3], mapped, 1e-6, 1e-4);
        TestUtil.Close(box, square.MapToOriginal(mapped), 1e-6, 1e-4);
        // The padding has the fill value.
        Assert.Equal(114 / 255.0, square.Image.ToDoubleArray()[0], 6);
    }

    [Fact]
    public void PooledImageOutputsDoNotShowWhatTheirRecycledBufferHeld()
    {
        // A crop, letterbox, flip or mosaic writes into a pooled buffer that is not cleared; leave a NaN-filled buffer of
        // the output's size in the pool and check that the padding (fill 0 included) and the pixels are all written.
        static void LeaveDirtyBuffer(int c, int h, int w)
        {
            var dirty = DataTensors.NewPooledImage(c, h, w, "test", out var data);
            data.AsSpan().Fill(float.NaN);
            if (dirty.storage is Ember.PooledStorage pooled) Ember.Backends.Cpu.StoragePool.Return(pooled);
        }
        var img = Image(3, 100, 200);
        LeaveDirtyBuffer(3, 160, 160);
        var crop = ImageKernels.CropWithFill(img, -30, 0, 160, 160, 0);   // 30 rows of padding above, 30 below
        var values = crop.ToArray<float>();
        Assert.All(values, v => Assert.False(float.IsNaN(v)));
        Assert.Equal(0f, values[0]);
        Assert.Equal(img.ToArray<float>()[0], values[30 * 160]);
        LeaveDirtyBuffer(3, 100, 200);
        Assert.Equal(ImageKernels.FlipHorizontal(img).ToArray<float>(), ImageKernels.FlipHorizontal(img, pooled: true).ToArray<float>());
        LeaveDirtyBuffer(3, 100, 200);
        Assert.Equal(ImageKernels.FlipVertical(img).ToArray<float>(), ImageKernels.FlipVertical(img, pooled: true).ToArray<float>());
        LeaveDirtyBuffer(3, 256, 256);
        var items = Enumerable.Range(0, 4).Select(k => (Image(3, 90 + k, 100, k), Torch.Zeros([0, 5]))).ToList();
        Assert.All(new Mosaic(256, fill: 0).Apply(items, new Generator(1)).Image.ToArray<float>(), v => Assert.False(float.IsNaN(v)));
    }

    [Fact]
    public void BilinearResizeGivesTheBitsOfTheOneColumnForm()
    {
        // shrinking, enlarging and windowed resizes whose output widths leave tails after the eight-column gathers
        var rng = new Random(3);
        var image = Torch.FromArray([.. Enumerable.Range(0, 3 * 70 * 90).Select(_ => (float)rng.NextDouble())], [3, 70, 90]);
        (int OutH, int OutW, int Top, int Left, int H, int W)[] cases = [(35, 45, 0, 0, 70, 90), (100, 133, 0, 0, 70, 90), (13, 7, 5, 9, 40, 50), (70, 90, 0, 0, 70, 90), (3, 321, 2, 3, 60, 80)];
        foreach (var (outH, outW, top, left, h, w) in cases)
        {
            var vector = ImageKernels.ResizeBilinear(image, outH, outW, top, left, h, w).ToArray<float>();
            var reference = ImageKernels.ResizeBilinear(image, outH, outW, top, left, h, w, vector: false).ToArray<float>();
            Assert.Equal(reference.Select(BitConverter.SingleToInt32Bits), vector.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void FlipAverageTtaAveragesOverFlips()
    {
        var x = Ramp(1, 1, 2, 3).Reshape(1, 1, 2, 3);
        int calls = 0;
        Tensor Model(Tensor t) { calls++; return t.Select(3, 0).Reshape(1, 2); }   // the first column
        var y = TestTimeAugmentation.FlipAverage(Model, x);
        Assert.Equal(2, calls);
        TestUtil.Close([(0 + 2) / 2.0, (3 + 5) / 2.0], y);
        var both = TestTimeAugmentation.FlipAverage(Model, x, horizontal: true, vertical: true);
        Assert.Equal(6, calls);
        TestUtil.Close([(0 + 2 + 3 + 5) / 4.0, (3 + 5 + 0 + 2) / 4.0], both);
    }

    [Fact]
    public void ComposeAppliesInOrderWithOneGenerator()
    {
        var t = new Compose(new RandomCrop(28, padding: 4), new RandomHorizontalFlip(), new Normalize([0.286], [0.353]));
        var img = FashionMnistFixture.Train[0].Image;
        var y = t.Apply(img, new Generator(1));
        Assert.Equal(new Shape(1, 28, 28), y.Shape);
        Assert.InRange(y.Min().Item(), -0.286 / 0.353 - 1e-5, -0.286 / 0.353 + 1e-5);
        Deterministic(t, img);
    }

    static Tensor Ramp(int n, int c, int h, int w) => Torch.Arange(0, n * c * h * w, 1).To(DType.Float32).Reshape(n, c, h, w);

    // Sizes from a config or a file that overflow an int: each is refused with the op and the size, never wrapped into a
    // wrong (negative or small) width or buffer.
    [Fact]
    public void Sizes_that_would_wrap_an_int_are_refused_naming_the_transform()
    {
        // 4097 · 2²⁰ = 2³² + 2²⁰ wraps to 2²⁰: a silently wrong width, then a buffer far too small
        var strip = Image(1, 1, 1 << 20);
        var resize = Assert.Throws<ArgumentException>(() => new Resize(4097).Apply(strip, new Generator(0)));
        Assert.Contains("Resize: the width of 1×1048576 resized to a smaller edge of 4097 would be 4296015872", resize.Message);
        var tall = Image(1, 1 << 20, 1);
        Assert.Contains("height of 1048576×1 resized to a smaller edge of 4097 would be 4296015872", Assert.Throws<ArgumentException>(() => new Resize(4097).Apply(tall, new Generator(0))).Message);
        // 3 · 50000² = 7.5·10⁹ values: above what one buffer holds
        var big = Assert.Throws<ArgumentException>(() => new Resize(50_000, 50_000).Apply(Image(3, 2, 2), new Generator(0)));
        Assert.Contains("resize: an output of 3×50000×50000 = 7500000000 values is too large for one tensor", big.Message);
        // 28 + 2 · (2³⁰ + 1) wraps to a negative padded height
        var crop = Assert.Throws<ArgumentException>(() => new RandomCrop(28, padding: (1 << 30) + 1).Apply(Image(1, 28, 28), new Generator(0)));
        Assert.Contains("RandomCrop: the padded height would be 2147483678", crop.Message);
        Assert.Contains("padding must be non-negative, got -1", Assert.Throws<ArgumentException>(() => new RandomCrop(28, padding: -1).Apply(Image(1, 28, 28), new Generator(0))).Message);
        var items = Enumerable.Range(0, 4).Select(_ => (Image(3, 4, 4), Torch.Zeros(0, 5))).ToList();
        var mosaic = Assert.Throws<ArgumentException>(() => new Mosaic(40_000).Apply(items, new Generator(0)));
        Assert.Contains("Mosaic: an output of 3×40000×40000 = 4800000000 values is too large", mosaic.Message);
    }
}
