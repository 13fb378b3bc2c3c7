using Ember.Data;
using Ember.Detection.Data;
using Ember.Tests.Cli;

namespace Ember.Tests.Detection.Data;

public class FashionMnistDetectionSetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-fdet-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    static readonly SyntheticDetectionOptions Small = new() { TrainImages = 4, ValImages = 2, Seed = 7 };

    [Fact]
    public void TheSameSeedWritesTheSameBytesAndAnotherSeedOthers()
    {
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b"), c = Path.Combine(root, "c");
        FashionMnistDetectionSet.Write(a, Small);
        FashionMnistDetectionSet.Write(b, Small);
        FashionMnistDetectionSet.Write(c, Small with { Seed = 8 });
        var sa = CliFailureTests.Snapshot(a);
        Assert.Equal(4 + 2 + 4 + 2 + 1 + 6, sa.Count); // 12 files, data.yaml, 6 folders
        Assert.Equal(sa, CliFailureTests.Snapshot(b));
        var sc = CliFailureTests.Snapshot(c);
        Assert.NotEqual(sa["images/train/000000.png"], sc["images/train/000000.png"]);
        Assert.NotEqual(sa["labels/val/000001.txt"], sc["labels/val/000001.txt"]);
    }

    [Fact]
    public void TheWrittenBytesAreThoseOfTheRecordedGenerator()
    {
        // pinned on the generator before its rendering was shared with `detect pretrain` (session 34): a change to the
        // draws or the arithmetic of make-data changes this hash
        FashionMnistDetectionSet.Write(root, Small);
        var all = string.Join("\n", CliFailureTests.Snapshot(root).Select(kv => kv.Key + " " + kv.Value));
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(all)));
        Assert.Equal("532C03DB44ACFFF29DE587C6CD699345F0E4C326268E0E5F1AADFD9497AC2D78", hash);
    }

    [Fact]
    public void BoxesAreTightAroundThePastedPixels()
    {
        // flat background without clutter or noise: a pixel differs from the background exactly where an item was pasted
        var plain = new SyntheticDetectionOptions { Clutter = 0, Noise = 0, Gradient = 0, Seed = 3, MaxObjects = 8 };
        var source = new FashionMnist(train: true);
        int objects = 0;
        for (int i = 0; i < 12; i++)
        {
            var s = FashionMnistDetectionSet.Generate(plain, source, train: true, i);
            int h = s.Height, w = s.Width;
            var px = s.Image.ToArray<float>();
            var labels = s.Labels.ToArray<float>();
            var boxes = new List<(int X0, int Y0, int X1, int Y1)>();
            for (int r = 0; r < s.Count; r++)
            {
                // label edges map back to whole pixels: the generator's boxes are pixel-aligned
                double x0 = (labels[r * 5 + 1] - labels[r * 5 + 3] / 2) * w, x1 = (labels[r * 5 + 1] + labels[r * 5 + 3] / 2) * w;
                double y0 = (labels[r * 5 + 2] - labels[r * 5 + 4] / 2) * h, y1 = (labels[r * 5 + 2] + labels[r * 5 + 4] / 2) * h;
                Assert.Equal(Math.Round(x0), x0, 3);
                Assert.Equal(Math.Round(y1), y1, 3);
                boxes.Add(((int)Math.Round(x0), (int)Math.Round(y0), (int)Math.Round(x1), (int)Math.Round(y1)));
            }
            objects += boxes.Count;
            bool Inside(int x, int y) => boxes.Any(b => x >= b.X0 && x < b.X1 && y >= b.Y0 && y < b.Y1);
            bool Pasted(int x, int y) => px[y * w + x] != px[0] || px[h * w + y * w + x] != px[h * w] || px[2 * h * w + y * w + x] != px[2 * h * w];
            Assert.False(Inside(0, 0) && Inside(w - 1, h - 1), "the background reference pixel is covered");
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (!Inside(x, y)) Assert.False(Pasted(x, y), $"image {i}: pixel ({x}, {y}) outside every box differs from the background");
            foreach (var b in boxes)
            {
                // every edge of a box touches a pasted pixel: no box is larger than its item
                Assert.Contains(Enumerable.Range(b.X0, b.X1 - b.X0), x => Pasted(x, b.Y0));
                Assert.Contains(Enumerable.Range(b.X0, b.X1 - b.X0), x => Pasted(x, b.Y1 - 1));
                Assert.Contains(Enumerable.Range(b.Y0, b.Y1 - b.Y0), y => Pasted(b.X0, y));
                Assert.Contains(Enumerable.Range(b.Y0, b.Y1 - b.Y0), y => Pasted(b.X1 - 1, y));
            }
        }
        Assert.True(objects >= 24, $"only {objects} objects in 12 images");
    }

    [Fact]
    public void TheReaderReadsWhatTheWriterWrote()
    {
        FashionMnistDetectionSet.Write(root, Small);
        var config = YoloDataConfig.Load(Path.Combine(root, "data.yaml"));
        Assert.Equal(FashionMnist.Classes, config.Names);
        foreach (var train in new[] { true, false })
        {
            var ds = YoloDataset.FromConfig(config, train);
            Assert.Empty(ds.Problems);
            Assert.Equal(train ? 4 : 2, ds.Count);
            var source = new FashionMnist(train: train);
            for (int i = 0; i < ds.Count; i++)
            {
                var expected = FashionMnistDetectionSet.Generate(Small, source, train, i);
                var read = ds[i];
                Assert.Equal(expected.Image.Shape, read.Image.Shape);
                TestUtil.Close(expected.Image, read.Image, rtol: 0, atol: 0.5 / 255 + 1e-6); // 8-bit quantization
                TestUtil.Close(expected.Labels, read.Labels, rtol: 0, atol: 1e-6);       // six decimals
            }
        }
    }

    [Fact]
    public void ImagesVaryInSizeAndHoldSeveralClassesWithinTheirBounds()
    {
        var source = new FashionMnist(train: false);
        var sizes = new HashSet<(int, int)>();
        var classes = new HashSet<int>();
        for (int i = 0; i < 10; i++)
        {
            var s = FashionMnistDetectionSet.Generate(new SyntheticDetectionOptions(), source, train: false, i);
            sizes.Add((s.Height, s.Width));
            Assert.InRange(s.Height, 160, 320);
            Assert.InRange(s.Width, 160, 320);
            Assert.InRange(s.Count, 1, 6);
            var l = s.Labels.ToArray<float>();
            for (int r = 0; r < s.Count; r++)
            {
                classes.Add((int)l[r * 5]);
                Assert.InRange(l[r * 5 + 1] - l[r * 5 + 3] / 2, -1e-6, 1);
                Assert.InRange(l[r * 5 + 1] + l[r * 5 + 3] / 2, 0, 1 + 1e-6);
                Assert.InRange(l[r * 5 + 4] * s.Height, 1.25 * 28 * 0.3, 4.0 * 28 * 1.2);
            }
        }
        Assert.True(sizes.Count >= 8, "image sizes should vary");
        Assert.True(classes.Count >= 6, $"only classes {string.Join(", ", classes)}");
    }

    [Fact]
    public void TheGeneratedSetTrainsThroughTheAugmentedLoaderTheSameWithAndWithoutWorkers()
    {
        FashionMnistDetectionSet.Write(root, Small with { TrainImages = 6, ValImages = 0 });
        var config = YoloDataConfig.Load(Path.Combine(root, "data.yaml"));
        var ds = new DetectionDataset(YoloDataset.FromConfig(config, train: true, cacheImages: true), imageSize: 160, augment: true,
            hyp: new DetectionAugmentation { CopyPaste = 0.3, Degrees = 5 }, batchSize: 4);
        var serial = ds.CreateLoader(shuffle: true, seed: 5).ToList();
        var parallel = ds.CreateLoader(shuffle: true, seed: 5, numWorkers: 2).ToList();
        Assert.Equal(2, serial.Count);
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(serial[b].Images.ToArray<float>(), parallel[b].Images.ToArray<float>());
            Assert.Equal(serial[b].Targets.ToArray<float>(), parallel[b].Targets.ToArray<float>());
            var t = serial[b].Targets.ToArray<float>();
            Assert.True(t.Length > 0, "a batch of four mosaics without objects");
            for (int r = 0; r < t.Length; r += 6)
            {
                Assert.InRange(t[r], 0, serial[b].Size - 1);
                Assert.InRange(t[r + 1], 0, 9);
                for (int k = 2; k < 6; k++) Assert.InRange(t[r + k], 0f, 1f);
            }
        }
        Assert.Equal([4, 3, 160, 160], serial[0].Images.Shape.ToArray());
        // another seed draws other augmentations
        Assert.NotEqual(serial[0].Images.ToArray<float>(), ds.CreateLoader(shuffle: true, seed: 6).First().Images.ToArray<float>());
    }

    [Theory]
    [InlineData("--max-side", "100", "--max-side must be between min-side (160) and 4096, got 100")]
    [InlineData("--min-side", "32", "--min-side must be at least 64 px, got 32")]
    [InlineData("--train-images", "-1", "--train-images must be at least 0, got -1")]
    public void MakeDataRejectsBadOptionsNamingThem(string option, string value, string message)
    {
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "make-data", "--output", Path.Combine(root, "x"), option, value]);
        Assert.Equal(Ember.Cli.Commands.ExitCodes.Usage, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void MakeDataWritesTheSetAndRefusesToMixWithAnotherWithoutForce()
    {
        var output = Path.Combine(root, "set");
        var args = new[] { "detect", "make-data", "--output", output, "--train-images", "3", "--val-images", "2", "--seed", "1" };
        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        Assert.True(code == 0, stderr);
        Assert.Contains($"wrote 3 training and 2 validation images to {output}", stdout);
        Assert.Contains("train: 3 images,", stdout);
        Assert.Contains("no problems", stdout);
        Assert.True(File.Exists(Path.Combine(output, "images", "val", "000001.png")));
        var (again, _, error) = CliFailureTests.Invoke(args);
        Assert.Equal(Ember.Cli.Commands.ExitCodes.Usage, again);
        Assert.Contains("is not empty; pass --force", error);
        File.WriteAllText(Path.Combine(output, "images", "train", "stale.png"), "x");
        Assert.Equal(0, CliFailureTests.Invoke(["detect", "make-data", "--output", output, "--train-images", "2", "--val-images", "2", "--force"]).Code);
        Assert.False(File.Exists(Path.Combine(output, "images", "train", "stale.png")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "images", "train")).Length);
    }
}
