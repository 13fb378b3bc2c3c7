using Ember.Data;
using Ember.Detection.Data;
using static Ember.Tests.Detection.Data.BoxPainting;

namespace Ember.Tests.Detection.Data;

public class DetectionTransformTests
{
    static DetectionSample Scene() => Paint(120, 160, (10, 15, 60, 55, 0), (90, 20, 150, 50, 1), (40, 70, 110, 112, 2));

    [Fact]
    public void ThePaintedSceneMatchesItsOwnLabels() => AssertBoxesMatchPixels(Scene(), minIoU: 0.999);

    [Fact]
    public void RandomAffineMovesBoxesWithThePixels()
    {
        var scene = Scene();
        var affine = new RandomAffine(degrees: 10, translate: 0.1, scale: 0.3, shear: 5);
        int kept = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var (image, boxes) = affine.Apply(scene.Image, Pixels(scene), new Generator(seed));
            Assert.Equal([3, 120, 160], image.Shape.ToArray());
            var s = FromPixels(image, boxes);
            // the label is the bounding box of the rotated rectangle, which holds more than the rectangle itself
            AssertBoxesMatchPixels(s, minIoU: 0.75, everyPixelLabelled: false);
            kept += s.Count;
        }
        Assert.True(kept >= 40, $"only {kept} of 60 boxes survived 20 moderate affines");
    }

    [Fact]
    public void RandomAffineWithoutRotationOrShearKeepsBoxesTight()
    {
        var scene = Scene();
        var affine = new RandomAffine(degrees: 0, translate: 0.2, scale: 0.5, shear: 0);
        for (int seed = 0; seed < 10; seed++)
        {
            var (image, boxes) = affine.Apply(scene.Image, Pixels(scene), new Generator(seed));
            AssertBoxesMatchPixels(FromPixels(image, boxes), minIoU: 0.9, everyPixelLabelled: false);
        }
    }

    [Fact]
    public void RandomAffineWithABorderCropsAndDropsBoxesCutOffByIt()
    {
        // the mosaic case: a border of −size/2 on each side; a box left outside the output is dropped
        var scene = Paint(200, 200, (5, 5, 40, 40, 0), (80, 80, 120, 120, 1));
        var (image, boxes) = new RandomAffine(translate: 0, scale: 0).Apply(scene.Image, Pixels(scene), new Generator(1), borderY: -50, borderX: -50);
        Assert.Equal([3, 100, 100], image.Shape.ToArray());
        var s = FromPixels(image, boxes);
        TestUtil.Close([1, 0.5, 0.5, 0.4, 0.4], s.Labels, rtol: 0, atol: 1e-5);
        AssertBoxesMatchPixels(s, minIoU: 0.99);
    }

    [Theory]
    [InlineData(1.9, 10, 100, 100, false)] // under 2 px wide
    [InlineData(3, 3, 10, 10, false)]      // 9 % of the original area
    [InlineData(4, 4, 10, 10, true)]
    [InlineData(300, 3, 300, 2.9, false)]  // aspect ratio over 100 (and under 3 px)
    public void BoxCandidatesFollowYolov5(double w2, double h2, double w1, double h1, bool kept)
        => Assert.Equal(kept, RandomAffine.IsCandidate(w1, h1, w2, h2));

    [Fact]
    public void HorizontalAndVerticalFlipsMirrorTheBoxes()
    {
        var scene = Scene();
        var (h, _) = new DetectionFlip(horizontal: 1, vertical: 0).Apply(scene.Image, Pixels(scene), new Generator(0));
        var flipped = FromPixels(h, new DetectionFlip(horizontal: 1).Apply(scene.Image, Pixels(scene), new Generator(0)).Boxes);
        AssertBoxesMatchPixels(flipped, minIoU: 0.999);
        Assert.Equal(1 - scene.Labels.ToArray<float>()[1], flipped.Labels.ToArray<float>()[1], 5);
        var (v, vb) = new DetectionFlip(horizontal: 0, vertical: 1).Apply(scene.Image, Pixels(scene), new Generator(0));
        var up = FromPixels(v, vb);
        AssertBoxesMatchPixels(up, minIoU: 0.999);
        Assert.Equal(1 - scene.Labels.ToArray<float>()[2], up.Labels.ToArray<float>()[2], 5);
        // probability 0: unchanged
        var (same, sb) = new DetectionFlip(0, 0).Apply(scene.Image, Pixels(scene), new Generator(0));
        Assert.Equal(scene.Image.ToArray<float>(), same.ToArray<float>());
    }

    [Fact]
    public void HsvJitterMovesNoBoxAndScalesValueHueAndSaturationAsYolov5()
    {
        var scene = Scene();
        var jittered = new DetectionSample(new HsvJitter().Apply(scene.Image, new Generator(3)), scene.Labels);
        // colours move, so the check uses black instead of grey: black stays black whatever the gains
        var dark = Paint(40, 50, (5, 6, 20, 30, 0), (25, 10, 45, 35, 2));
        var darkPx = dark.Image.ToArray<float>();
        for (int i = 0; i < darkPx.Length; i++) if (Math.Abs(darkPx[i] - Grey) < 1e-6) darkPx[i] = 0;
        var jitteredDark = new HsvJitter(0.5, 0.7, 0.4).Apply(Torch.FromArray(darkPx, [3, 40, 50]), new Generator(5)).ToArray<float>();
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 50; x++)
            {
                bool inBox = (x >= 5 && x < 20 && y >= 6 && y < 30) || (x >= 25 && x < 45 && y >= 10 && y < 35);
                bool lit = jitteredDark[y * 50 + x] + jitteredDark[2000 + y * 50 + x] + jitteredDark[4000 + y * 50 + x] > 0;
                Assert.Equal(inBox, lit);
            }
        Assert.Equal(scene.Labels.ToArray<float>(), jittered.Labels.ToArray<float>());
        // value gain only: every channel of every pixel scaled by one factor in [0.6, 1.4]
        var colour = Torch.FromArray(new float[] { 0.5f, 0.25f, 0.1f, 0.4f, 0.3f, 0.2f }, [3, 1, 2]);
        var v = new HsvJitter(0, 0, 0.4).Apply(colour, new Generator(9)).ToArray<float>();
        double factor = v[0] / 0.5;
        Assert.InRange(factor, 0.6, 1.4);
        Assert.NotEqual(1.0, factor, 3);
        var src = colour.ToArray<float>();
        for (int i = 0; i < 6; i++) Assert.Equal(Math.Min(1, src[i] * factor), v[i], 5);
        // hue gain only: each pixel keeps its value (max) and saturation (1 − min/max), its hue moves
        var hOnly = new HsvJitter(0.5, 0, 0).Apply(colour, new Generator(9)).ToArray<float>();
        for (int p = 0; p < 2; p++)
        {
            float[] a = [src[p], src[2 + p], src[4 + p]], b = [hOnly[p], hOnly[2 + p], hOnly[4 + p]];
            Assert.Equal(a.Max(), b.Max(), 5);
            Assert.Equal(1 - a.Min() / a.Max(), 1 - b.Min() / b.Max(), 5);
            Assert.NotEqual(a, b);
        }
        // zero gains: unchanged
        Assert.Equal(src, new HsvJitter(0, 0, 0).Apply(colour, new Generator(1)).ToArray<float>().Select(x => (float)Math.Round(x, 6)).ToArray());
    }

    // Pixels that take every branch of the HSV round trip: grey (no hue), black, white, each channel the largest, ties
    // between the largest two, values just inside [0, 1], and random colours.
    static float[] HsvTestPlanes(int plane, int seed)
    {
        float[] special = [0, 0, 0, 1, 1, 1, 0.5f, 0.5f, 0.5f, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.8f, 0.8f, 0.1f, 0.8f, 0.1f, 0.8f,
            0.1f, 0.8f, 0.8f, 0.9f, 0.2f, 0.6f, 0.2f, 0.6f, 0.9f, 0.6f, 0.9f, 0.2f, 1e-7f, 0, 0, 0.999999f, 1, 0.999999f];
        var rng = new Random(seed);
        var data = new float[3 * plane];
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++)
                data[c * plane + p] = 3 * p + 2 < special.Length ? special[3 * p + c] : rng.Next(4) == 0 ? rng.Next(256) / 255f : (float)rng.NextDouble();
        return data;
    }

    [Fact]
    public void HsvJitterGivesEveryPixelTheBitsOfThePixelFormula()
    {
        // gains as drawn at the defaults, clipping saturation and value, and a hue gain below zero (hsv_h > 1)
        (double H, double S, double V)[] gains = [(1.01, 1.5, 0.7), (0.985, 0.3, 1.4), (1, 1, 1), (-0.7, 1.7, 1.9), (2.3, 0.01, 0.05)];
        int[] planes = [.. Enumerable.Range(0, 41), 1000];
        foreach (var (rh, rs, rv) in gains)
            foreach (int plane in planes)
            {
                var src = HsvTestPlanes(plane, plane);
                var dst = new float[3 * plane];
                HsvJitter.Jitter(src, dst, plane, rh, rs, rv);
                for (int p = 0; p < plane; p++)
                {
                    var (r, g, b) = HsvJitter.JitterPixel(src[p], src[plane + p], src[2 * plane + p], rh, rs, rv);
                    Assert.True(BitConverter.SingleToInt32Bits(r) == BitConverter.SingleToInt32Bits(dst[p])
                        && BitConverter.SingleToInt32Bits(g) == BitConverter.SingleToInt32Bits(dst[plane + p])
                        && BitConverter.SingleToInt32Bits(b) == BitConverter.SingleToInt32Bits(dst[2 * plane + p]),
                        $"gains ({rh}, {rs}, {rv}), {plane} pixels, pixel {p}: ({dst[p]:R}, {dst[plane + p]:R}, {dst[2 * plane + p]:R}) vs ({r:R}, {g:R}, {b:R})");
                }
            }
    }

    [Fact]
    public void RandomAffineGivesTheBitsOfTheOnePixelForm()
    {
        // random images warped by maps that shrink, enlarge, rotate and shear, with outputs whose width leaves a tail, so
        // that whole inside groups, groups on the border and the fill around a shrunk image are all met
        var rng = new Random(7);
        (int H, int W, int OutH, int OutW)[] sizes = [(64, 80, 64, 80), (100, 37, 50, 53), (9, 9, 31, 29), (640, 640, 320, 320)];
        foreach (var (h, w, outH, outW) in sizes)
            for (int k = 0; k < 6; k++)
            {
                var image = Torch.FromArray([.. Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble())], [3, h, w]);
                double a = (rng.NextDouble() - 0.5) * (k < 2 ? 0 : 0.8), s = 0.4 + 1.4 * rng.NextDouble(), shear = k % 3 == 2 ? 0.2 : 0;
                double m00 = s * Math.Cos(a), m01 = s * Math.Sin(a) + shear, m10 = -s * Math.Sin(a), m11 = s * Math.Cos(a);
                double[] m = [m00, m01, outW / 2.0 - (m00 * w + m01 * h) / 2 + (rng.NextDouble() - 0.5) * 20,
                    m10, m11, outH / 2.0 - (m10 * w + m11 * h) / 2 + (rng.NextDouble() - 0.5) * 20];
                var boxes = Torch.Zeros([0, 5]);
                var vector = RandomAffine.Warp(image, boxes, m, outH, outW, s, 0.447f).Image.ToArray<float>();
                var reference = RandomAffine.Warp(image, boxes, m, outH, outW, s, 0.447f, vector: false).Image.ToArray<float>();
                for (int i = 0; i < vector.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(vector[i]) == BitConverter.SingleToInt32Bits(reference[i]),
                        $"{h}×{w} → {outH}×{outW}, map {k}: value {i} is {vector[i]:R}, the one-pixel form gives {reference[i]:R}");
            }
    }

    [Fact]
    public void RandomAffineWithoutRotationOrShearGivesTheBitsOfTheOnePixelForm()
    {
        // YOLOv5's default hyp (no rotation, no shear) takes the separable form: scales that shrink and enlarge, mirrored
        // axes, shifts that leave fill on either side or move the image out entirely, and ±0 cross terms
        var rng = new Random(11);
        (int H, int W, int OutH, int OutW)[] sizes = [(64, 80, 64, 80), (100, 37, 50, 53), (9, 9, 31, 29), (640, 640, 320, 320), (1, 5, 4, 9)];
        foreach (var (h, w, outH, outW) in sizes)
            for (int k = 0; k < 8; k++)
            {
                var image = Torch.FromArray([.. Enumerable.Range(0, 3 * h * w).Select(_ => (float)rng.NextDouble())], [3, h, w]);
                double sx = (0.4 + 1.4 * rng.NextDouble()) * (k == 3 ? -1 : 1), sy = (0.4 + 1.4 * rng.NextDouble()) * (k == 4 ? -1 : 1);
                double shift = k == 5 ? 4 * Math.Max(outW, outH) : (rng.NextDouble() - 0.5) * 20;
                double[] m = [sx, k % 2 == 0 ? 0.0 : -0.0, outW / 2.0 - sx * w / 2 + shift, k % 2 == 0 ? -0.0 : 0.0, sy, outH / 2.0 - sy * h / 2 - shift / 3];
                var boxes = Torch.Zeros([0, 5]);
                var separable = RandomAffine.Warp(image, boxes, m, outH, outW, sx, 0.447f).Image.ToArray<float>();
                var reference = RandomAffine.Warp(image, boxes, m, outH, outW, sx, 0.447f, vector: false).Image.ToArray<float>();
                for (int i = 0; i < separable.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(separable[i]) == BitConverter.SingleToInt32Bits(reference[i]),
                        $"{h}×{w} → {outH}×{outW}, map {k}: value {i} is {separable[i]:R}, the one-pixel form gives {reference[i]:R}");
            }
    }

    [Fact]
    public void CopyPasteAddsTheMirroredObjectWithItsLabelUnlessItWouldCoverAnother()
    {
        var scene = Paint(60, 100, (5, 10, 30, 40, 0), (60, 5, 80, 20, 1));
        var (image, boxes) = new CopyPaste(p: 1).Apply(scene.Image, Pixels(scene), new Generator(0));
        var s = FromPixels(image, boxes);
        // the red box mirrors to x 70..95, y 10..40: it covers 10/20 × 10/15 = 33 % of the green one, so it is refused;
        // the green mirrors to x 20..40, y 5..20 over 10 × 10 / (25 × 30) = 13 % of the red one: pasted
        Assert.Equal(3, s.Count);
        var l = s.Labels.ToArray<float>();
        Assert.Equal(1, l[10]);
        Assert.Equal((20 + 40) / 2f / 100, l[11], 5);
        AssertBoxesMatchPixels(s, minIoU: 0.99, everyPixelLabelled: false);
        // p = 0: nothing changes
        var (same, sameBoxes) = new CopyPaste(0).Apply(scene.Image, Pixels(scene), new Generator(0));
        Assert.Equal(2, sameBoxes.Size(0));
        Assert.Equal(scene.Image.ToArray<float>(), same.ToArray<float>());
    }

    [Fact]
    public void TheTrainingPipelineKeepsBoxesWithPixelsThroughMosaicAffineAndFlip()
    {
        var source = new SampleList(
            Paint(100, 140, (10, 10, 50, 60, 0), (80, 30, 130, 90, 1)),
            Paint(130, 90, (20, 30, 70, 100, 2)),
            Paint(96, 96, (30, 30, 70, 70, 3)),
            Paint(80, 160, (5, 5, 60, 40, 1), (100, 20, 150, 75, 0)));
        // no copy-paste here: a pasted copy may hide part of another object, which moves that object's pixels away
        // from its box by design (copy-paste has its own test)
        var hyp = new DetectionAugmentation { HsvH = 0, HsvS = 0, HsvV = 0, Degrees = 0 };
        var ds = new DetectionDataset(source, imageSize: 128, augment: true, hyp: hyp);
        int objects = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            var s = ds.Get(seed % 4, new Generator(seed));
            Assert.Equal([3, 128, 128], s.Image.Shape.ToArray());
            AssertBoxesMatchPixels(s, minIoU: 0.85, everyPixelLabelled: false);
            objects += s.Count;
        }
        Assert.True(objects >= 12, $"only {objects} objects in 12 mosaics");
        // the loader batches them with the (M, 6) targets
        var batch = ds.CreateLoader(seed: 1).First();
        Assert.Equal([4, 3, 128, 128], batch.Images.Shape.ToArray());
        Assert.Equal(6, batch.Targets.Size(1));
    }

    [Fact]
    public void WithoutMosaicEachItemShowsOnlyItsOwnImageWithTheOtherAugmentations()
    {
        // one class per source image, so a label of another class in item i means a mosaic brought it in
        var source = new SampleList(
            Paint(100, 140, (10, 10, 50, 60, 0), (80, 30, 130, 90, 0)),
            Paint(130, 90, (20, 30, 70, 100, 1)),
            Paint(96, 96, (30, 30, 70, 70, 2)),
            Paint(80, 160, (5, 5, 60, 40, 3), (100, 20, 150, 75, 3)));
        var hyp = new DetectionAugmentation { Degrees = 0 };
        var mosaic = new DetectionDataset(source, imageSize: 128, augment: true, hyp: hyp);
        var closed = mosaic.WithoutMosaic();
        Assert.Equal(1.0, mosaic.Hyp.Mosaic);
        Assert.Equal(0.0, closed.Hyp.Mosaic);
        Assert.Equal((true, 128, mosaic.BatchSize, hyp.HsvV, hyp.Scale), (closed.Augment, closed.ImageSize, closed.BatchSize, closed.Hyp.HsvV, closed.Hyp.Scale));
        // item for item what a pipeline built with mosaic 0 gives from the same draws
        var reference = new DetectionDataset(source, imageSize: 128, augment: true, hyp: hyp with { Mosaic = 0, CopyPaste = 0 });
        int foreignInMosaics = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            int i = seed % 4;
            var s = closed.Get(i, new Generator(seed));
            Assert.Equal([3, 128, 128], s.Image.Shape.ToArray());
            Assert.Equal(reference.Get(i, new Generator(seed)).Image.ToArray<float>(), s.Image.ToArray<float>());
            var classes = s.Labels.ToArray<float>().Where((_, k) => k % 5 == 0).ToArray();
            Assert.All(classes, c => Assert.Equal((float)i, c));
            foreignInMosaics += mosaic.Get(i, new Generator(seed)).Labels.ToArray<float>().Where((c, k) => k % 5 == 0 && c != i).Count();
        }
        Assert.True(foreignInMosaics > 0, "the mosaic pipeline never showed another image's object: the comparison proves nothing");
        // nothing to close: the same data set
        var plain = new DetectionDataset(source, imageSize: 128, augment: true, hyp: hyp with { Mosaic = 0 });
        Assert.Same(plain, plain.WithoutMosaic());
    }

    [Fact]
    public void ValidationLetterboxesToTheSquareSizeAndKeepsBoxes()
    {
        var ds = new DetectionDataset(new SampleList(Paint(100, 140, (10, 10, 50, 60, 0), (80, 30, 130, 90, 1))), imageSize: 160);
        var s = ds[0];
        Assert.Equal([3, 160, 160], s.Image.Shape.ToArray());
        AssertBoxesMatchPixels(s, minIoU: 0.95);
    }
}
