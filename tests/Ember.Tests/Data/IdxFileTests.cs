using System.IO.Compression;
using Ember.Data;

namespace Ember.Tests.Data;

public class IdxFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-idx-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    static byte[] Idx(int magic, int[] dims, int dataBytes)
    {
        var bytes = new List<byte>();
        void Int(int v) { bytes.Add((byte)(v >> 24)); bytes.Add((byte)(v >> 16)); bytes.Add((byte)(v >> 8)); bytes.Add((byte)v); }
        Int(magic);
        foreach (var d in dims) Int(d);
        for (int i = 0; i < dataBytes; i++) bytes.Add((byte)(i % 251));
        return [.. bytes];
    }

    string Write(string name, byte[] bytes, bool gzip)
    {
        var path = Path.Combine(dir, name);
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
        return path;
    }

    [Fact]
    public void ReadsTheShippedFashionMnistFiles()
    {
        var train = FashionMnistFixture.Train;
        Assert.Equal(60000, train.Count);
        Assert.Equal(28, train.Height);
        Assert.Equal(28, train.Width);
        Assert.Equal(60000 * 28 * 28, train.Pixels.Length);
        var counts = new int[10];
        foreach (var l in train.Labels) counts[l]++;
        Assert.All(counts, c => Assert.Equal(6000, c));   // Fashion-MNIST is balanced: 6,000 per class
        var (image, label) = train[0];
        Assert.Equal(new Shape(1, 28, 28), image.Shape);
        Assert.Equal(9, label);   // the first training image is an ankle boot
        Assert.InRange(image.Min().Item(), 0, 0);
        Assert.InRange(image.Max().Item(), 0.5, 1);
        Assert.Equal("Ankle boot", train.ClassNames[9]);
        var test = new FashionMnist(train: false);
        Assert.Equal(10000, test.Count);
        var labels = IdxFile.Read(Path.Combine(train.Root, "t10k-labels-idx1-ubyte.gz"), IdxFile.MagicFor(IdxDataType.UByte, 1));
        Assert.Equal(new[] { 10000 }, labels.Dims);
        Assert.Equal(0x801, labels.Magic);
        Assert.InRange(labels.Data.Max(), 9, 9);
        var lt = labels.ToTensor(DType.Int64);
        Assert.Equal(DType.Int64, lt.DType);
        Assert.Equal(new Shape(10000), lt.Shape);
        Assert.Equal(9, lt.Max().Item());
        Assert.Equal(0, lt.Min().Item());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsRawAndGzip(bool gzip)
    {
        var path = Write("ok.idx", Idx(0x803, [3, 2, 2], 12), gzip);
        var f = IdxFile.Read(path, 0x803);
        Assert.Equal(new[] { 3, 2, 2 }, f.Dims);
        Assert.Equal(IdxDataType.UByte, f.DataType);
        var t = f.ToTensor();
        Assert.Equal(new Shape(3, 2, 2), t.Shape);
        Assert.Equal(11, t.Max().Item());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrongMagicNamesFileExpectedMagicAndOffset(bool gzip)
    {
        var path = Write("labels-as-images.idx", Idx(0x801, [5], 5), gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 0x803));
        Assert.Contains("labels-as-images.idx", e.Message);
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("offset 0", e.Message);
        var garbage = Write("garbage.idx", [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1], false);
        var e2 = Assert.Throws<InvalidDataException>(() => IdxFile.Read(garbage));
        Assert.Contains("garbage.idx", e2.Message);
        Assert.Contains("0x12345678", e2.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedDataNamesFileCountAndOffset(bool gzip)
    {
        // 10 items of 2×2 declared, only 7 complete items (and a bit) present.
        var path = Write("short.idx", Idx(0x803, [10, 2, 2], 30), gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 0x803));
        Assert.Contains("short.idx", e.Message);
        Assert.Contains("expected 10 items", e.Message);
        Assert.Contains("byte offset 46", e.Message);   // 16-byte header + 30 bytes
        Assert.Contains("after 7 complete items", e.Message);
        var header = Write("header.idx", Idx(0x803, [10, 2, 2], 0)[..9], gzip);
        var e2 = Assert.Throws<InvalidDataException>(() => IdxFile.Read(header));
        Assert.Contains("truncated header", e2.Message);
        Assert.Contains("byte offset 9", e2.Message);
    }

    [Fact]
    public void CorruptGzipNamesTheFile()
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Idx(0x803, [100, 28, 28], 100 * 784));
        var bytes = ms.ToArray();
        for (int i = 20; i < 60; i++) bytes[i] ^= 0x5A;   // damage the deflate stream
        var path = Write("corrupt.gz", bytes, false);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, 0x803));
        Assert.Contains("corrupt.gz", e.Message);
    }

    [Fact]
    public void MnistChecksLabelCountAndRange()
    {
        Write("train-images-idx3-ubyte", Idx(0x803, [3, 2, 2], 12), false);
        Write("train-labels-idx1-ubyte.gz", Idx(0x801, [2], 2), true);
        var e = Assert.Throws<InvalidDataException>(() => new Mnist(dir));
        Assert.Contains("2 labels", e.Message);
        Assert.Contains("3 images", e.Message);
        var labels = Idx(0x801, [3], 0).Concat(new byte[] { 1, 12, 3 }).ToArray();
        Write("train-labels-idx1-ubyte.gz", labels, true);
        var e2 = Assert.Throws<InvalidDataException>(() => new Mnist(dir));
        Assert.Contains("sample 1", e2.Message);
        Assert.Contains("label 12", e2.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => new Mnist(dir, train: false));
        Assert.Contains("t10k-images-idx3-ubyte", missing.Message);
    }
}

/// <summary>Loads the shipped Fashion-MNIST training set once for every test that needs it.</summary>
static class FashionMnistFixture
{
    static readonly Lazy<FashionMnist> train = new(() => new FashionMnist(train: true));
    public static FashionMnist Train => train.Value;
}
