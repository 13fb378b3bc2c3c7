using Ember.Data;
using Ember.Data.Transforms;
using StbImageWriteSharp;

namespace Ember.Tests.Data;

public class ImageFolderTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-imgs-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    static byte[] Pixels(int w, int h, byte r, byte g, byte b)
    {
        var data = new byte[w * h * 3];
        for (int p = 0; p < w * h; p++) { data[3 * p] = r; data[3 * p + 1] = g; data[3 * p + 2] = b; }
        return data;
    }

    void WritePng(string path, int w, int h, byte r, byte g, byte b)
    {
        using var f = File.Create(path);
        new ImageWriter().WritePng(Pixels(w, h, r, g, b), w, h, ColorComponents.RedGreenBlue, f);
    }

    void WriteJpg(string path, int w, int h, byte r, byte g, byte b)
    {
        using var f = File.Create(path);
        new ImageWriter().WriteJpg(Pixels(w, h, r, g, b), w, h, ColorComponents.RedGreenBlue, f, 95);
    }

    [Fact]
    public void DecodesPngAndJpegOneFolderPerClass()
    {
        Directory.CreateDirectory(Path.Combine(root, "cat"));
        Directory.CreateDirectory(Path.Combine(root, "dog"));
        WritePng(Path.Combine(root, "cat", "a.png"), 6, 4, 255, 0, 0);
        WriteJpg(Path.Combine(root, "cat", "b.jpg"), 6, 4, 0, 0, 255);
        WritePng(Path.Combine(root, "dog", "c.png"), 6, 4, 0, 255, 0);
        File.WriteAllText(Path.Combine(root, "dog", "notes.txt"), "not an image");
        var ds = new ImageFolder(root);
        Assert.Equal(new[] { "cat", "dog" }, ds.ClassNames);
        Assert.Equal(3, ds.Count);
        var (red, l0) = ds[0];
        Assert.Equal(0, l0);
        Assert.Equal(new Shape(3, 4, 6), red.Shape);
        Assert.Equal(1.0, red.Select(0, 0).Min().Item());
        Assert.Equal(0.0, red.Select(0, 1).Max().Item());
        var (blue, _) = ds[1];
        Assert.InRange(blue.Select(0, 2).Mean().Item(), 0.95, 1.0);   // JPEG is lossy
        Assert.InRange(blue.Select(0, 0).Mean().Item(), 0.0, 0.05);
        Assert.Equal(1, ds[2].Label);
        var gray = new ImageFolder(root, new Resize(8, 12), channels: 1);
        Assert.Equal(new Shape(1, 8, 12), gray[2].Image.Shape);
        var (x, y) = new DataLoader<(Tensor, long)>(ds, batchSize: 3).First();
        Assert.Equal(new Shape(3, 3, 4, 6), x.Shape);
        Assert.Equal(new long[] { 0, 0, 1 }, y.ToArray<long>());
    }

    [Fact]
    public void UndecodableImageNamesTheFile()
    {
        Directory.CreateDirectory(Path.Combine(root, "a"));
        File.WriteAllBytes(Path.Combine(root, "a", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var ds = new ImageFolder(root);
        var e = Assert.Throws<InvalidDataException>(() => ds[0]);
        Assert.Contains("broken.png", e.Message);
        Assert.Contains("has no class sub-folders", Assert.Throws<InvalidDataException>(() => new ImageFolder(Path.Combine(root, "a"))).Message);
    }
}
