using System.Diagnostics;
using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Detection.Data;

/// <summary>
/// A small real-pixel detection data set generated from the shipped Fashion-MNIST (no download): each image is a canvas
/// of random size with a dark background, a brightness gradient, unlabelled low-contrast clutter and Gaussian noise, on
/// which 1–6 Fashion-MNIST items of random classes, scales and tints are pasted with limited overlap. An item's box is
/// the tight box of its pasted pixels (those whose scaled intensity exceeds <see cref="MaskThreshold"/>; fainter ones are
/// not pasted, so no item pixel lies outside its box). Training images take their items from Fashion-MNIST's training
/// split, validation images from its test split. Every image is a pure function of (seed, split, index).
/// </summary>
public static class FashionMnistDetectionSet
{
    /// <summary>Scaled item intensities at or below this are not pasted (the item's mask).</summary>
    public const float MaskThreshold = 0.1f;

    /// <summary>
    /// Generates image <paramref name="index"/> of a split, drawing items from <paramref name="source"/> (Fashion-MNIST's
    /// training split for train, test split for val); labels are YOLO rows [class, cx, cy, w, h].
    /// </summary>
    public static DetectionSample Generate(SyntheticDetectionOptions options, IDataset<(Tensor Image, long Label)> source, bool train, int index)
    {
        var g = new Generator(SeedSequence.Derive(options.Seed, train ? 0 : 1, index));
        int h = Uniform(g, options.MinSide, options.MaxSide), w = Uniform(g, options.MinSide, options.MaxSide);
        var pixels = new float[3 * h * w];
        var bg = PaintBackground(pixels, h, w, options, g);
        var boxes = new List<(int X0, int Y0, int X1, int Y1, int Class)>();
        int wanted = Uniform(g, options.MinObjects, options.MaxObjects);
        for (int k = 0; k < wanted; k++)
            for (int attempt = 0; attempt < 30; attempt++)
            {
                var (item, label) = source[(int)g.NextInt64(source.Count)];
                if (TryPaste(pixels, h, w, bg, options, item, label, boxes, g)) break;
            }
        AddNoise(pixels, options, g);
        var labels = new float[boxes.Count * 5];
        for (int i = 0; i < boxes.Count; i++)
        {
            var (x0, y0, x1, y1, cls) = boxes[i];
            labels[i * 5] = cls;
            labels[i * 5 + 1] = (float)((x0 + x1) / 2.0 / w);
            labels[i * 5 + 2] = (float)((y0 + y1) / 2.0 / h);
            labels[i * 5 + 3] = (float)((double)(x1 - x0) / w);
            labels[i * 5 + 4] = (float)((double)(y1 - y0) / h);
        }
        return new DetectionSample(Torch.FromArray(pixels, [3, h, w]), Torch.FromArray(labels, [boxes.Count, 5]));
    }

    /// <summary>
    /// One Fashion-MNIST <paramref name="item"/> (1×28×28 in [0, 1]) rendered as <see cref="Generate"/> renders the items
    /// of a detection image, on a square canvas of <paramref name="size"/> px: the same background (colour, gradient,
    /// clutter), the item at a random scale in [<see cref="SyntheticDetectionOptions.MinScale"/>,
    /// <see cref="SyntheticDetectionOptions.MaxScale"/>] and aspect, flipped at random, tinted, at a random place, then
    /// the noise; every draw from <paramref name="g"/>. Returns the image, 3 × size × size. For classification
    /// pre-training on the detector's domain (`ember detect pretrain`).
    /// </summary>
    public static Tensor RenderItem(Tensor item, int size, SyntheticDetectionOptions options, Generator g)
    {
        if (options.MaxScale * Math.Sqrt(1.25) * Math.Max(item.Size(1), item.Size(2)) > size)
            throw new ArgumentException($"FashionMnistDetectionSet.RenderItem: an item of {item.Size(1)}×{item.Size(2)} px at max scale {options.MaxScale} (and aspect up to 1.25) may not fit a {size} px canvas");
        var pixels = new float[3 * size * size];
        var bg = PaintBackground(pixels, size, size, options, g);
        var boxes = new List<(int X0, int Y0, int X1, int Y1, int Class)>();
        // an item with no pixel above the mask is drawn again at another scale (blank items do not occur in Fashion-MNIST)
        for (int attempt = 0; attempt < 30 && !TryPaste(pixels, size, size, bg, options, item, 0, boxes, g); attempt++) { }
        AddNoise(pixels, options, g);
        return Torch.FromArray(pixels, [3, size, size]);
    }

    static int Uniform(Generator g, int lo, int hi) => lo + (int)g.NextInt64(hi - lo + 1);

    // The background of an image: a random colour, a brightness gradient across it and the clutter; returns the colour.
    static float[] PaintBackground(float[] pixels, int h, int w, SyntheticDetectionOptions options, Generator g)
    {
        var bg = new float[3];
        for (int c = 0; c < 3; c++) bg[c] = (float)(0.05 + 0.4 * g.NextDouble());
        double gx = options.Gradient * (2 * g.NextDouble() - 1), gy = options.Gradient * (2 * g.NextDouble() - 1);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    pixels[(c * h + y) * w + x] = (float)Math.Clamp(bg[c] + gx * ((x + 0.5) / w - 0.5) + gy * ((y + 0.5) / h - 0.5), 0, 1);
        int clutter = options.Clutter == 0 ? 0 : (int)g.NextInt64(options.Clutter + 1);
        for (int k = 0; k < clutter; k++) DrawClutter(pixels, h, w, bg, g);
        return bg;
    }

    // The Gaussian pixel noise, added last.
    static void AddNoise(float[] pixels, SyntheticDetectionOptions options, Generator g)
    {
        if (options.Noise > 0)
            for (int i = 0; i < pixels.Length; i++) pixels[i] = Math.Clamp(pixels[i] + (float)(options.Noise * g.NextNormal()), 0f, 1f);
    }

    // One unlabelled distractor: a filled rectangle or a thin line, a little brighter or darker than the background, so
    // the detector must learn the items' shapes rather than "anything that is not flat".
    static void DrawClutter(float[] pixels, int h, int w, float[] bg, Generator g)
    {
        var colour = new float[3];
        for (int c = 0; c < 3; c++) colour[c] = Math.Clamp(bg[c] + (float)(0.3 * g.NextDouble() - 0.15), 0f, 1f);
        int x0, y0, x1, y1;
        if (g.NextDouble() < 0.5)
        {
            x0 = (int)g.NextInt64(w); y0 = (int)g.NextInt64(h);
            x1 = Math.Min(w, x0 + 4 + (int)g.NextInt64(w / 4)); y1 = Math.Min(h, y0 + 4 + (int)g.NextInt64(h / 4));
        }
        else if (g.NextDouble() < 0.5)
        {
            x0 = (int)g.NextInt64(w); y0 = (int)g.NextInt64(h);
            x1 = Math.Min(w, x0 + w / 4 + (int)g.NextInt64(w / 2)); y1 = Math.Min(h, y0 + 1 + (int)g.NextInt64(3));
        }
        else
        {
            x0 = (int)g.NextInt64(w); y0 = (int)g.NextInt64(h);
            x1 = Math.Min(w, x0 + 1 + (int)g.NextInt64(3)); y1 = Math.Min(h, y0 + h / 4 + (int)g.NextInt64(h / 2));
        }
        for (int c = 0; c < 3; c++)
            for (int y = y0; y < y1; y++)
                pixels.AsSpan((c * h + y) * w + x0, x1 - x0).Fill(colour[c]);
    }

    // Pastes item at a random scale, aspect, flip and place where it overlaps the earlier boxes little enough (false:
    // it does not fit or is blank, and nothing was pasted); its box joins boxes.
    static bool TryPaste(float[] pixels, int h, int w, float[] bg, SyntheticDetectionOptions o, Tensor item, long label,
        List<(int X0, int Y0, int X1, int Y1, int Class)> boxes, Generator g)
    {
        double scale = o.MinScale + (o.MaxScale - o.MinScale) * g.NextDouble();
        double aspect = Math.Exp(Math.Log(1.25) * (2 * g.NextDouble() - 1));
        int ih = Math.Max(4, (int)Math.Round(item.Size(1) * scale * Math.Sqrt(aspect))), iw = Math.Max(4, (int)Math.Round(item.Size(2) * scale / Math.Sqrt(aspect)));
        if (g.NextDouble() < 0.5) item = ImageKernels.FlipHorizontal(item);
        var alpha = DataTensors.Floats(ImageKernels.ResizeBilinear(item, ih, iw)).ToArray();
        int ax0 = iw, ay0 = ih, ax1 = -1, ay1 = -1;
        for (int y = 0; y < ih; y++)
            for (int x = 0; x < iw; x++)
                if (alpha[y * iw + x] > MaskThreshold)
                {
                    ax0 = Math.Min(ax0, x); ax1 = Math.Max(ax1, x); ay0 = Math.Min(ay0, y); ay1 = Math.Max(ay1, y);
                }
        if (ax1 < 0) return false;
        int bw = ax1 - ax0 + 1, bh = ay1 - ay0 + 1;
        if (bw > w || bh > h) return false;
        int x0 = (int)g.NextInt64(w - bw + 1), y0 = (int)g.NextInt64(h - bh + 1);
        foreach (var b in boxes)
        {
            int iw2 = Math.Min(b.X1, x0 + bw) - Math.Max(b.X0, x0), ih2 = Math.Min(b.Y1, y0 + bh) - Math.Max(b.Y0, y0);
            if (iw2 <= 0 || ih2 <= 0) continue;
            double inter = (double)iw2 * ih2, old = (double)(b.X1 - b.X0) * (b.Y1 - b.Y0);
            // IoU bounds overlap; the share of an earlier item hidden under this one bounds occlusion
            if (inter / (old + (double)bw * bh - inter) > o.MaxOverlap || inter / old > 0.5) return false;
        }
        var tint = new float[3];
        for (int c = 0; c < 3; c++) tint[c] = (float)(0.55 + 0.45 * g.NextDouble());
        for (int y = 0; y < bh; y++)
            for (int x = 0; x < bw; x++)
            {
                float a = alpha[(ay0 + y) * iw + ax0 + x];
                if (a <= MaskThreshold) continue;
                a = Math.Min(a, 1f);
                for (int c = 0; c < 3; c++)
                {
                    ref float p = ref pixels[(c * h + y0 + y) * w + x0 + x];
                    p = p + a * (tint[c] - p);
                }
            }
        boxes.Add((x0, y0, x0 + bw, y0 + bh, (int)label));
        return true;
    }

    /// <summary>
    /// The bytes <see cref="Write"/> is expected to put on disk, erring high: per image the PNG's unfiltered pixel
    /// bytes at the mean canvas (sides drawn uniformly and independently, so E[h·w] = E[h]·E[w]; deflate can only shrink
    /// them, by little for the noisy pixels, and adds a few bytes a block), the longest label file, and a file-system block
    /// for each of the two files' last, partly filled block.
    /// </summary>
    public static double EstimatedBytes(SyntheticDetectionOptions options)
    {
        const double block = 4096, pngFraming = 8 + 3 * 12 + 13 + 6, labelRow = 38; // "c x.xxxxxx y.yyyyyy w.wwwwww h.hhhhhh\n"
        double side = (options.MinSide + options.MaxSide) / 2.0;
        double pixels = side * (3 * side + 1); // a filter byte per row
        double png = pixels + 5 * Math.Ceiling(pixels / 65535) + pngFraming;
        double perImage = png + block + labelRow * options.MaxObjects + block;
        return ((double)options.TrainImages + options.ValImages) * perImage;
    }

    /// <summary>
    /// Writes the data set in the YOLO format under <paramref name="folder"/>: images/train, images/val (PNG),
    /// labels/train, labels/val and data.yaml with Fashion-MNIST's class names; returns the seconds it took. data.yaml
    /// comes last, so a folder without it was not finished. <paramref name="cancel"/> stops the generation between images
    /// (an <see cref="OperationCanceledException"/>, before data.yaml is written).
    /// </summary>
    public static double Write(string folder, SyntheticDetectionOptions options, string? fashionMnistRoot = null, IProgress<int>? progress = null,
        CancellationToken cancel = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        foreach (var split in new[] { "train", "val" })
        {
            Directory.CreateDirectory(Path.Combine(folder, "images", split));
            Directory.CreateDirectory(Path.Combine(folder, "labels", split));
        }
        int done = 0;
        foreach (var train in new[] { true, false })
        {
            int count = train ? options.TrainImages : options.ValImages;
            if (count == 0) continue;
            var source = new FashionMnist(fashionMnistRoot, train);
            string split = train ? "train" : "val";
            // images are independent functions of (seed, split, index): generating them in parallel changes no byte
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancel }, i =>
            {
                var sample = Generate(options, source, train, i);
                string name = i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
                DetectionImages.WritePng(Path.Combine(folder, "images", split, name + ".png"), sample.Image);
                File.WriteAllText(Path.Combine(folder, "labels", split, name + ".txt"), YoloLabels.Format(sample.Labels.ToArray<float>()));
                progress?.Report(Interlocked.Increment(ref done));
            });
        }
        cancel.ThrowIfCancellationRequested();
        YoloDataConfig.Write(Path.Combine(folder, "data.yaml"), "images/train", "images/val", FashionMnist.Classes);
        return clock.Elapsed.TotalSeconds;
    }
}
