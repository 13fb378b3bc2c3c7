using Ember.Detection.Model;

namespace Ember.Tests.Detection;

/// <summary>
/// YOLOv5's augmented inference (<see cref="AugmentedInference"/>): the scaled copies' shapes and contents, the inverse
/// of each pass's scale and flip, the clip of the first and last pass, and boxes found on the flipped and scaled copies
/// mapped back onto the original image.
/// </summary>
public class AugmentedInferenceTests
{
    static readonly double[] Strides = [8, 16, 32];

    // rows of a 3-level, 3-anchor decoded output for an H×W input: 3·(H/8·W/8 + H/16·W/16 + H/32·W/32)
    static int Rows(int h, int w) => 3 * (h / 8 * (w / 8) + h / 16 * (w / 16) + h / 32 * (w / 32));

    [Theory]
    [InlineData(320, 320, 0.83, 265, 265, 288, 288)] // ⌊320·0.83⌋ = 265, ⌈265.6 / 32⌉·32 = 288
    [InlineData(320, 320, 0.67, 214, 214, 224, 224)]
    [InlineData(256, 416, 0.83, 212, 345, 224, 352)]
    [InlineData(256, 416, 0.67, 171, 278, 192, 288)]
    public void Scaled_copies_are_resized_to_the_floor_and_padded_to_the_stride(int h, int w, double ratio, int sh, int sw, int ph, int pw)
    {
        var images = Torch.Rand([2, 3, h, w], generator: new Generator(1));
        var scaled = AugmentedInference.ScaleImage(images, ratio, 32);
        Assert.Equal([2, 3, ph, pw], scaled.Shape.ToArray());
        var resized = Ember.Nn.Functional.F.Interpolate(images, size: (sh, sw), mode: Ember.Nn.InterpolationMode.Bilinear);
        Assert.Equal(resized.ToArray<float>(), scaled.Narrow(2, 0, sh).Narrow(3, 0, sw).Contiguous().ToArray<float>());
        var right = scaled.Narrow(3, sw, pw - sw).Contiguous().ToArray<float>();
        var bottom = scaled.Narrow(2, sh, ph - sh).Contiguous().ToArray<float>();
        Assert.All(right.Concat(bottom), v => Assert.Equal((float)AugmentedInference.PadValue, v));
        Assert.Same(images, AugmentedInference.ScaleImage(images, 1, 32));
    }

    [Fact]
    public void Scale_image_matches_pytorch()
    {
        // ../shared/tools/torch-oracle (libtorch 2.10, float64): x[i] = sin(0.37 i + 0.1) shaped [1, 2, 7, 9];
        // F.interpolate(x, size=(4, 6), mode='bilinear', align_corners=False) padded by F.pad(…, [0, 2, 0, 4], value=0.447),
        // which is YOLOv5's scale_img(x, 0.67, gs=4): ⌊7·0.67⌋ = 4, ⌊9·0.67⌋ = 6, ⌈4.69 / 4⌉·4 = ⌈6.03 / 4⌉·4 = 8.
        var v = new double[2 * 7 * 9];
        for (int i = 0; i < v.Length; i++) v[i] = Math.Sin(0.37 * i + 0.1);
        var scaled = AugmentedInference.ScaleImage(Torch.FromArray(v, [1, 2, 7, 9]), 0.67, 4);
        Assert.Equal([1, 2, 8, 8], scaled.Shape.ToArray());
        double[] actual = scaled.ToArray<double>(), expected = ScaleImageReference;
        for (int i = 0; i < actual.Length; i++) Assert.True(Math.Abs(actual[i] - expected[i]) < 1e-12, $"element {i}: {actual[i]} vs {expected[i]}");
    }

    // per channel the 4 × 6 resized values and the padding (the oracle's 8 × 8 output, whose last 4 rows are all 0.447)
    static readonly double[] ScaleImageReferenceRows =
    [
        -0.019796012783079894, 0.12156883706703317, 0.22580665715242337, 0.2626212214831805, 0.22061107410262207, 0.1119862642795083, 0.447, 0.447,
        0.38032888838913825, 0.660102270771224, 0.7407867713290296, 0.5989318242239776, 0.27846985025357873, -0.12745840400260086, 0.447, 0.447,
        0.6155560001264277, 0.7424362978665914, 0.6463601593325679, 0.35525165664021896, -0.04073302250596579, -0.4265028169333057, 0.447, 0.447,
        0.26263081422894086, 0.22042367508262986, 0.11243278534533097, -0.029954817172180966, -0.16264174850264052, -0.24706318395763574, 0.447, 0.447,
        -0.24872453922740298, -0.2558052964736807, -0.18625494446988036, -0.06028796180216581, 0.08308372701016566, 0.2021898234012463, 0.447, 0.447,
        -0.7129000834683639, -0.49476454528852676, -0.12960420495175157, 0.27644882364767387, 0.5976400787684661, 0.7406168517377978, 0.447, 0.447,
        -0.5563556360427687, -0.21223886094434308, 0.19366005746058437, 0.5433685315739317, 0.728581985808188, 0.6954690117431006, 0.447, 0.447,
        -0.06076851984585181, 0.08341084230135734, 0.2018742097130869, 0.2601907688161892, 0.24029990440996082, 0.14798280150663745, 0.447, 0.447,
    ];

    static double[] ScaleImageReference
    {
        get
        {
            var full = Enumerable.Repeat(AugmentedInference.PadValue, 2 * 8 * 8).ToArray();
            for (int c = 0; c < 2; c++) ScaleImageReferenceRows.AsSpan(c * 32, 32).CopyTo(full.AsSpan(c * 64));
            return full;
        }
    }

    [Fact]
    public void Descale_divides_the_boxes_by_the_scale_and_mirrors_x_back()
    {
        // a pass at scale 0.5 on a left-right mirrored 100-pixel-wide batch saw a box at cx 40, cy 20, 10 × 8:
        // in the batch's pixels that is cx 100 − 80 = 20, cy 40, 20 × 16; objectness and class scores pass through.
        var decoded = Torch.FromArray(new float[] { 40, 20, 10, 8, 0.9f, 0.8f, 0.1f }, [1, 1, 7]);
        Assert.Equal([20f, 40, 20, 16, 0.9f, 0.8f, 0.1f], AugmentedInference.Descale(decoded, 0.5, true, 100).ToArray<float>());
        Assert.Equal([80f, 40, 20, 16, 0.9f, 0.8f, 0.1f], AugmentedInference.Descale(decoded, 0.5, false, 100).ToArray<float>());
        Assert.Same(decoded, AugmentedInference.Descale(decoded, 1, false, 100));
        // the inverse of a known transform: mirror a box, scale it, and descale it back
        double w = 96, cx = 30, s = 0.83;
        var seen = Torch.FromArray(new double[] { (w - cx) * s, 12 * s, 8 * s, 6 * s, 1, 1 }, [1, 1, 6]);
        var back = AugmentedInference.Descale(seen, s, true, (int)w).ToArray<double>();
        double[] expected = [cx, 12, 8, 6, 1, 1];
        for (int k = 0; k < 6; k++) Assert.Equal(expected[k], back[k], 10);
    }

    [Fact]
    public void The_clip_drops_the_coarsest_level_of_the_first_pass_and_the_finest_of_the_last()
    {
        // a 64×64 pass: 3·64 rows at stride 8, 3·16 at 16, 3·4 at 32 (252); the row's value is its index
        int n = Rows(64, 64);
        var pass = Torch.Arange(n).To(DType.Float32).Reshape(1, n, 1);
        var clipped = AugmentedInference.ClipPasses([pass, pass, pass], 3);
        Assert.Equal(Enumerable.Range(0, n - 12).Select(i => (float)i), clipped[0].Contiguous().ToArray<float>());
        Assert.Same(pass, clipped[1]);
        Assert.Equal(Enumerable.Range(192, n - 192).Select(i => (float)i), clipped[2].Contiguous().ToArray<float>());
    }

    // A stand-in detector's decoded forward: one box per image in its first stride-16 row, found as the bounding box of
    // the pixels brighter than 0.5 in the first channel (objectness 0.9, class score 1), and faint markers in the first
    // (stride 8) and last (stride 32) rows; every other row zero.
    static Tensor BrightBoxDetector(Tensor x)
    {
        int n = x.Size(0), h = x.Size(2), w = x.Size(3), rows = Rows(h, w);
        var pixels = x.Contiguous().ToArray<float>();
        var output = new float[n * rows * 6];
        for (int b = 0; b < n; b++)
        {
            int x0 = w, y0 = h, x1 = -1, y1 = -1;
            for (int y = 0; y < h; y++)
                for (int i = 0; i < w; i++)
                    if (pixels[(b * 3 * h + y) * w + i] > 0.5f) { x0 = Math.Min(x0, i); x1 = Math.Max(x1, i); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); }
            int at = (b * rows + 3 * (h / 8) * (w / 8)) * 6;
            float[] box = [(x0 + x1 + 1) / 2f, (y0 + y1 + 1) / 2f, x1 + 1 - x0, y1 + 1 - y0, 0.9f, 1];
            box.CopyTo(output, at);
            output[b * rows * 6 + 4] = output[(b * rows + rows - 1) * 6 + 4] = 0.01f;
        }
        return Torch.FromArray(output, [n, rows, 6]);
    }

    [Fact]
    public void A_box_found_on_the_flipped_and_scaled_copies_maps_back_onto_the_original()
    {
        // a 64×96 image with a bright 20 × 24 rectangle at x 10–30, y 20–44: centre (20, 32)
        var pixels = new float[3 * 64 * 96];
        for (int c = 0; c < 3; c++)
            for (int y = 20; y < 44; y++)
                for (int x = 10; x < 30; x++) pixels[(c * 64 + y) * 96 + x] = 1;
        var image = Torch.FromArray(pixels, [1, 3, 64, 96]);
        var output = AugmentedInference.Forward(BrightBoxDetector, image, Strides);
        // rows: the full pass without its stride-32 level, the 0.83 pass (53 × 79 padded to 64 × 96) whole, the 0.67 pass
        // (42 × 64 padded to 64 × 96) without its stride-8 level
        int n = Rows(64, 96);
        Assert.Equal([1, n - 3 * 2 * 3 + n + n - 3 * 8 * 12, 6], output.Shape.ToArray());
        var rows = output.ToArray<float>();
        var boxes = Enumerable.Range(0, rows.Length / 6).Where(r => rows[6 * r + 4] == 0.9f).Select(r => rows.AsSpan(6 * r, 4).ToArray()).ToList();
        Assert.Equal(3, boxes.Count);
        Assert.Equal([20f, 32, 20, 24], boxes[0]); // the plain pass sees the rectangle where it is
        // the scaled copies see it within a pixel or so after bilinear resizing (a pixel is 1.5 px back at scale 0.67, and
        // the copies' true scales, 79/96 and 64/96 wide, differ a little from 0.83 and 0.67); were the 0.83 pass not
        // un-mirrored, its cx would be near 96 − 20 = 76
        float[] truth = [20, 32, 20, 24];
        foreach (var box in boxes.Skip(1))
            for (int k = 0; k < 4; k++) Assert.True(Math.Abs(box[k] - truth[k]) <= 2, $"box ({string.Join(", ", box)}) is not within 2 px of ({string.Join(", ", truth)})");
        // the markers: the first pass keeps its stride-8 one, the middle pass both, the last its stride-32 one
        Assert.Equal(4, Enumerable.Range(0, rows.Length / 6).Count(r => rows[6 * r + 4] == 0.01f));
        // one NMS over the three passes keeps one box on the object
        var kept = NonMaxSuppression.Apply(output, new NmsOptions { ConfidenceThreshold = 0.25 })[0];
        Assert.Equal(1, kept.Size(0));
    }

    [Fact]
    public void Each_pass_maps_a_box_back_by_its_own_scale_and_flip()
    {
        // a detector that reports the same box (cx 20, cy 12, 8 × 6) on whatever it sees: the passes put it back at
        // (20, 12, 8, 6), (96 − 20/0.83, 12/0.83, 8/0.83, 6/0.83) and (20/0.67, 12/0.67, 8/0.67, 6/0.67)
        static Tensor Fixed(Tensor x)
        {
            int rows = Rows(x.Size(2), x.Size(3));
            var o = new float[rows * 6];
            new float[] { 20, 12, 8, 6, 0.9f, 1 }.CopyTo(o, 3 * (x.Size(2) / 8) * (x.Size(3) / 8) * 6);
            return Torch.FromArray(o, [1, rows, 6]);
        }
        var output = AugmentedInference.Forward(Fixed, Torch.Zeros([1, 3, 64, 96]), Strides).ToArray<float>();
        var boxes = Enumerable.Range(0, output.Length / 6).Where(r => output[6 * r + 4] > 0).Select(r => output.AsSpan(6 * r, 4).ToArray()).ToList();
        double[][] expected = [[20, 12, 8, 6], [96 - 20 / 0.83, 12 / 0.83, 8 / 0.83, 6 / 0.83], [20 / 0.67, 12 / 0.67, 8 / 0.67, 6 / 0.67]];
        Assert.Equal(3, boxes.Count);
        for (int p = 0; p < 3; p++)
            for (int k = 0; k < 4; k++) Assert.InRange(boxes[p][k], expected[p][k] - 1e-4, expected[p][k] + 1e-4);
    }

    [Fact]
    public void A_detector_runs_augmented_in_eval_mode_and_reuses_the_plain_forward()
    {
        var model = new YoloV5(2, YoloSize.N);
        var images = Torch.Rand([2, 3, 64, 96], generator: new Generator(3));
        Assert.Contains("eval mode", Assert.Throws<InvalidOperationException>(() => AugmentedInference.Forward(model, images)).Message);
        model.Eval();
        var output = AugmentedInference.Forward(model, images);
        int n = Rows(64, 96);
        Assert.Equal([2, n - 3 * 2 * 3 + n + n - 3 * 8 * 12, 7], output.Shape.ToArray());
        Assert.False(output.RequiresGrad);
        Tensor plain;
        using (Torch.NoGrad()) plain = model.Call(images);
        Assert.Equal(output.ToArray<float>(), AugmentedInference.Forward(model, images, plain).ToArray<float>());
        // the first pass is the plain forward: its rows lead the output unchanged
        Assert.Equal(plain.Narrow(1, 0, n - 18).Contiguous().ToArray<float>(), output.Narrow(1, 0, n - 18).Contiguous().ToArray<float>());
    }

    [Fact]
    public void Detectors_whose_levels_do_not_halve_the_resolution_are_refused()
    {
        var images = Torch.Zeros([1, 3, 64, 64]);
        foreach (double[] strides in new[] { new double[] { 8, 32 }, [16], [8, 16, 24] })
        {
            var e = Assert.Throws<ArgumentException>(() => AugmentedInference.Forward(BrightBoxDetector, images, strides));
            Assert.Contains("strides double", e.Message);
            Assert.Contains($"[{string.Join(", ", strides)}]", e.Message);
            Assert.False(AugmentedInference.Supports(strides));
        }
        Assert.True(AugmentedInference.Supports([8, 16, 32, 64]));
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => AugmentedInference.Forward(BrightBoxDetector, Torch.Zeros([3, 64, 64]), Strides)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AugmentedInference.ScaleImage(images, 1.2, 32));
    }
}
