using Ember.Detection.Data;
using Ember.Data;
using StbImageWriteSharp;

namespace Ember.Tests.Detection.Data;

public class YoloDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-yolo-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    string Images => Path.Combine(root, "images", "train");
    string Labels => Path.Combine(root, "labels", "train");

    // A w×h RGB image whose pixel (x, y) has red = x, green = y, blue = 7 (so decoded pixels can be checked by position).
    static byte[] Ramp(int w, int h)
    {
        var data = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { int p = 3 * (y * w + x); data[p] = (byte)x; data[p + 1] = (byte)y; data[p + 2] = 7; }
        return data;
    }

    void Image(string name, int w = 20, int h = 10, bool jpeg = false)
    {
        Directory.CreateDirectory(Images);
        using var f = File.Create(Path.Combine(Images, name));
        if (jpeg) new ImageWriter().WriteJpg(Ramp(w, h), w, h, ColorComponents.RedGreenBlue, f, 100);
        else new ImageWriter().WritePng(Ramp(w, h), w, h, ColorComponents.RedGreenBlue, f);
    }

    void Label(string name, string text)
    {
        Directory.CreateDirectory(Labels);
        File.WriteAllText(Path.Combine(Labels, name), text);
    }

    [Fact]
    public void CachedBytesBecomeTheValuesOfTheScalarConversion()
    {
        var bytes = Enumerable.Range(0, 300).Select(i => (byte)(i * 37 % 256)).ToArray();
        bytes[0] = 0; bytes[1] = 255;
        foreach (int n in Enumerable.Range(0, 70).Append(300))
        {
            var into = new float[n + 3];
            Array.Fill(into, float.NaN);
            YoloDataset.ToUnit(bytes.AsSpan(0, n), into);
            for (int i = 0; i < n; i++) Assert.Equal(bytes[i] * (1f / 255f), into[i]);
            Assert.All(into[n..], v => Assert.True(float.IsNaN(v))); // nothing written past the pixels
        }
        Assert.Throws<ArgumentException>(() => YoloDataset.ToUnit(bytes, new float[10]));
    }

    [Fact]
    public void ReadsPngAndJpegWithTheirLabels()
    {
        Image("a.png", 20, 10);
        Label("a.txt", "1 0.5 0.5 0.2 0.4\n\n0 0.25 0.75 0.1 0.2\n");
        Image("b.jpg", 16, 12, jpeg: true);
        Label("b.txt", "2 0.5 0.5 1 1\n");
        var ds = new YoloDataset([Images], classCount: 3);
        Assert.Empty(ds.Problems);
        Assert.Equal(2, ds.Count);
        var a = ds[0];
        Assert.EndsWith("a.png", a.Path);
        Assert.Equal([3, 10, 20], a.Image.Shape.ToArray());
        Assert.Equal([1, 0.5, 0.5, 0.2, 0.4, 0, 0.25, 0.75, 0.1, 0.2], a.Labels.ToDoubleArray().Select(v => Math.Round(v, 6)));
        // pixel (x = 13, y = 6): red 13, green 6, blue 7
        var px = a.Image.ToDoubleArray();
        Assert.Equal(13 / 255.0, px[0 * 200 + 6 * 20 + 13], 6);
        Assert.Equal(6 / 255.0, px[1 * 200 + 6 * 20 + 13], 6);
        Assert.Equal(7 / 255.0, px[2 * 200 + 6 * 20 + 13], 6);
        var b = ds[1];
        Assert.Equal([3, 12, 16], b.Image.Shape.ToArray());
        Assert.Equal((12, 16), ds.ImageSize(1));
        Assert.InRange(b.Image.ToDoubleArray()[5 * 16 + 9] * 255, 9 - 3, 9 + 3); // JPEG at quality 100 is within a few levels
    }

    [Fact]
    public void AnImageWithoutALabelFileIsABackgroundNotAProblem()
    {
        Image("a.png");
        Image("b.png");
        Label("a.txt", "0 0.5 0.5 0.2 0.2\n");
        var ds = new YoloDataset([Images], classCount: 1);
        Assert.Empty(ds.Problems);
        Assert.Equal(2, ds.Count);
        Assert.Equal(1, ds.Backgrounds);
        Assert.Equal([0, 5], ds[1].Labels.Shape.ToArray());
        Assert.Contains("2 images, 1 objects, 1 backgrounds", ds.Summary());
    }

    [Theory]
    [InlineData("0 0.5 0.5 0.2\n", 1, "expected 5 values 'class cx cy w h', got 4")]
    [InlineData("0 0.5 0.5 0.2 0.2\n0 0.5 x 0.2 0.2\n", 2, "cy must be a number, got 'x'")]
    [InlineData("0 0.5 0.5 0.2 0.2\n\n3 0.5 0.5 0.2 0.2\n", 3, "class id 3 is out of range: the data set has 3 classes (ids 0 to 2)")]
    [InlineData("-1 0.5 0.5 0.2 0.2\n", 1, "class id -1 is out of range")]
    [InlineData("1.5 0.5 0.5 0.2 0.2\n", 1, "class id must be an integer, got '1.5'")]
    [InlineData("0 120 50 30 20\n", 1, "box outside [0, 1]: cx is 120")]
    [InlineData("0 0.95 0.5 0.3 0.2\n", 1, "box outside [0, 1]: its corners are (0.8, 0.4) to (1.1, 0.6)")]
    [InlineData("0 0.5 0.5 0 0.2\n", 1, "box has zero size")]
    public void AMalformedLabelIsReportedWithFileAndLineAndTheSampleSkipped(string text, int line, string message)
    {
        Image("a.png");
        Image("b.png");
        Label("a.txt", text);
        Label("b.txt", "0 0.5 0.5 0.2 0.2\n");
        var ds = new YoloDataset([Images], classCount: 3);
        var problem = Assert.Single(ds.Problems);
        Assert.Equal(Path.Combine(Labels, "a.txt"), problem.File);
        Assert.Equal(line, problem.Line);
        Assert.Contains(message, problem.Message);
        Assert.StartsWith($"{Path.Combine(Labels, "a.txt")}:{line}: ", problem.ToString());
        Assert.Equal(1, ds.Count);
        Assert.EndsWith("b.png", ds[0].Path);
        Assert.Contains("1 problem in 1 file (skipped; first: ", ds.Summary());
    }

    [Fact]
    public void AnImageRefusedForItsSizeOrWhoseReadingRunsOutOfMemoryIsAProblemAndSkipped()
    {
        Image("a.png", 20, 10);
        Image("b.png", 30, 12);
        Image("c.jpg", 16, 8, jpeg: true);
        foreach (var name in new[] { "a", "b", "c" }) Label(name + ".txt", "0 0.5 0.5 0.2 0.4\n");
        var weighed = new List<(string, int, int)>();
        var ds = new YoloDataset([Images], classCount: 1, tooLarge: (path, h, w) =>
        {
            weighed.Add((Path.GetFileName(path), h, w));
            if (path.EndsWith("c.jpg")) throw new OutOfMemoryException("no room");
            return h * w > 300 ? $"{w}×{h} is too large" : null;
        });
        // each image weighed once with its header's size; the refused and the one that ran out skipped and named
        Assert.Equal([("a.png", 10, 20), ("b.png", 12, 30), ("c.jpg", 8, 16)], weighed);
        Assert.Equal(1, ds.Count);
        Assert.EndsWith("a.png", ds[0].Path);
        Assert.Equal([$"{Path.Combine(Images, "b.png")}: too large for memory now: 30×12 is too large", $"{Path.Combine(Images, "c.jpg")}: memory ran out while reading it (no room)"],
            ds.SkippedForMemory.Select(p => p.ToString()));
        Assert.Equal(ds.SkippedForMemory, ds.Problems);
        Assert.Contains("1 images, 1 objects, 0 backgrounds (no label file), 2 problems in 2 files (skipped; first: ", ds.Summary());
    }

    [Fact]
    public void ImagesSkippedAfterTheScanLeaveTheOthersInOrderUntilTheCountIsKept()
    {
        // a (labelled), b (background, large), c (labelled, large), d (labelled), e (large): keeping 2 weighs a to d
        foreach (var (name, w) in new[] { ("a", 10), ("b", 40), ("c", 40), ("d", 10), ("e", 40) }) Image(name + ".png", w, 10);
        foreach (var name in new[] { "a", "c", "d", "e" }) Label(name + ".txt", "0 0.5 0.5 0.2 0.4\n");
        var ds = new YoloDataset([Images], classCount: 1, cacheImages: true);
        var weighed = new List<string>();
        int skipped = ds.SkipForMemory(2, (path, h, w) =>
        {
            weighed.Add(Path.GetFileName(path));
            return h * w > 300 ? $"{w}×{h} does not fit" : null;
        });
        Assert.Equal(2, skipped);
        Assert.Equal(["a.png", "b.png", "c.png", "d.png"], weighed);
        Assert.Equal(["a.png", "d.png", "e.png"], ds.ImagePaths.Select(Path.GetFileName));
        Assert.Equal((0, 3), (ds.Backgrounds, ds.Objects)); // the skipped background is no longer counted
        Assert.Equal([$"{Path.Combine(Images, "b.png")}: too large for memory now: 40×10 does not fit", $"{Path.Combine(Images, "c.png")}: too large for memory now: 40×10 does not fit"],
            ds.SkippedForMemory.Select(p => p.ToString()));
        Assert.Contains("3 images, 3 objects, 0 backgrounds (no label file), 2 problems in 2 files (skipped; first: ", ds.Summary());
        // the cache follows the kept images: d's pixels are d's (its ramp is 10 wide, e's 40)
        Assert.Equal(10, ds[1].Width);
        Assert.Equal(40, ds[2].Width);
        Assert.Equal(9 * (1f / 255), ds[1].Image.ToArray<float>()[9]); // red = x
    }

    [Fact]
    public void ALabelFileWithoutAnImageAndAnUnreadableImageAreReported()
    {
        Image("a.png");
        Label("a.txt", "0 0.5 0.5 0.2 0.2\n");
        Label("orphan.txt", "0 0.5 0.5 0.2 0.2\n");
        File.WriteAllBytes(Path.Combine(Images, "broken.png"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var truncated = File.ReadAllBytes(Path.Combine(Images, "a.png"));
        File.WriteAllBytes(Path.Combine(Images, "cut.png"), truncated[..(truncated.Length - 20)]);
        var ds = new YoloDataset([Images], classCount: 1);
        Assert.Equal(1, ds.Count);
        Assert.Equal(3, ds.Problems.Count);
        Assert.Contains(ds.Problems, p => p.File == Path.Combine(Images, "broken.png") && p.Message.StartsWith("unreadable image: not a PNG, JPEG or BMP file"));
        Assert.Contains(ds.Problems, p => p.File == Path.Combine(Images, "cut.png") && p.Message.StartsWith("unreadable image: truncated"));
        Assert.Contains(ds.Problems, p => p.File == Path.Combine(Labels, "orphan.txt") && p.Message.StartsWith("label file has no image"));
    }

    [Fact]
    public void ASourceThatDoesNotExistOrHoldsNoImagesIsAnError()
    {
        var missing = Assert.Throws<DirectoryNotFoundException>(() => new YoloDataset([Path.Combine(root, "nope")], 1));
        Assert.Contains($"image source '{Path.Combine(root, "nope")}' does not exist", missing.Message);
        Directory.CreateDirectory(Images);
        var empty = Assert.Throws<InvalidDataException>(() => new YoloDataset([Images], 1));
        Assert.Contains("no images (.png, .jpg, .jpeg, .bmp)", empty.Message);
    }

    [Fact]
    public void ATxtListNamesImagesRelativeToItsFolder()
    {
        Image("a.png");
        Image("b.png");
        Label("b.txt", "0 0.5 0.5 0.2 0.2\n");
        File.WriteAllText(Path.Combine(root, "list.txt"), "images/train/b.png\n\n");
        var ds = new YoloDataset([Path.Combine(root, "list.txt")], 1);
        Assert.Equal(1, ds.Count);
        Assert.Equal([0, 0.5, 0.5, 0.2, 0.2], ds[0].Labels.ToDoubleArray().Select(v => Math.Round(v, 6)));
    }

    [Fact]
    public void CachedImagesAreTheDecodedPixelsAndNeedTheFileOnlyOnce()
    {
        Image("a.png", 20, 10);
        Image("b.jpg", 16, 12, jpeg: true);
        var plain = new YoloDataset([Images], classCount: 1);
        var cached = new YoloDataset([Images], classCount: 1, cacheImages: true);
        var first = new[] { cached[0].Image.ToArray<float>(), cached[1].Image.ToArray<float>() };
        // the first read decodes into the cache's bytes: the values of a plain decode
        for (int i = 0; i < 2; i++) Assert.Equal(plain[i].Image.ToArray<float>(), first[i]);
        File.Delete(Path.Combine(Images, "a.png"));
        File.Delete(Path.Combine(Images, "b.jpg"));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(first[i], cached[i].Image.ToArray<float>());
            Assert.Equal([3, i == 0 ? 10 : 12, i == 0 ? 20 : 16], cached[i].Image.Shape.ToArray());
        }
        Assert.Throws<FileNotFoundException>(() => plain[0]);
    }

    [Fact]
    public void TheDetectionPipelineGivesTheSameItemsFromCachedImages()
    {
        // DetectionDataset decodes cached images and resizes them into per-thread scratch buffers (one per mosaic tile):
        // items must be those of an uncached set, also on a second pass over dirty scratch and through a subset. Sizes:
        // larger than the 64 training size (shrunk), exactly 64 on the long side (no resize), smaller (enlarged).
        (int W, int H)[] sizes = [(90, 70), (64, 40), (30, 50), (100, 100), (48, 64), (33, 20)];
        for (int i = 0; i < sizes.Length; i++)
        {
            Image($"{i}.png", sizes[i].W, sizes[i].H);
            Label($"{i}.txt", $"{i % 2} 0.5 0.5 0.4 0.5\n");
        }
        var plain = new YoloDataset([Images], classCount: 2);
        var cached = new YoloDataset([Images], classCount: 2, cacheImages: true);
        for (int i = 0; i < cached.Count; i++) _ = cached[i];   // fills the cache
        // and one whose cache the pipeline fills itself (each image decoded straight into the cache on its first read)
        var filledByPipeline = new YoloDataset([Images], classCount: 2, cacheImages: true);
        int[] order = [5, 0, 3, 1, 4, 2];
        var subsetPlain = new Subset<DetectionSample>(plain, order);
        var subsetCached = new Subset<DetectionSample>(cached, order);
        foreach (var (a, b) in new[] { ((IDataset<DetectionSample>)plain, (IDataset<DetectionSample>)cached), (subsetPlain, subsetCached), (plain, filledByPipeline) })
        {
            var train = (Expected: new DetectionDataset(a, 64, augment: true, batchSize: 2), Actual: new DetectionDataset(b, 64, augment: true, batchSize: 2));
            var val = (Expected: new DetectionDataset(a, 64, rect: true, batchSize: 2), Actual: new DetectionDataset(b, 64, rect: true, batchSize: 2));
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < a.Count; i++)
                    foreach (var (expected, actual) in new[] { train, val })
                    {
                        var e = expected.Get(i, new Generator(10 * pass + i));
                        var x = actual.Get(i, new Generator(10 * pass + i));
                        Assert.Equal(e.Image.Shape, x.Image.Shape);
                        Assert.Equal(e.Image.ToArray<float>(), x.Image.ToArray<float>());
                        Assert.Equal(e.Labels.ToArray<float>(), x.Labels.ToArray<float>());
                        Assert.Equal(e.Path, x.Path);
                    }
        }
    }

    [Fact]
    public void LabelPathReplacesTheLastImagesFolder()
    {
        var sep = Path.DirectorySeparatorChar;
        Assert.Equal($"{sep}d{sep}images{sep}labels{sep}train{sep}x.txt", YoloLabels.LabelPathFor($"{sep}d{sep}images{sep}images{sep}train{sep}x.jpg"));
        Assert.Equal($"{sep}d{sep}x.txt", YoloLabels.LabelPathFor($"{sep}d{sep}x.png"));
    }
}
